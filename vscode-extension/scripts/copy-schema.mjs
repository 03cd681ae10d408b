// Copies the workflow JSON Schema from the engine (the single source) into schema/ for the
// `yamlValidation` contribution. The copy is generated at build time and never committed.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const extensionRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const source = resolve(extensionRoot, "..", "engine", "schema", "workflow.schema.json");
const target = join(extensionRoot, "schema", "workflow.schema.json");

if (!existsSync(source)) {
  console.error(`copy-schema: ${source} is missing; the extension's yamlValidation needs it. Build the engine schema first.`);
  process.exit(1);
}
try {
  JSON.parse(readFileSync(source, "utf8"));
} catch (error) {
  console.error(`copy-schema: ${source} is not valid JSON: ${error.message}`);
  process.exit(1);
}
mkdirSync(dirname(target), { recursive: true });
copyFileSync(source, target);
console.log(`copy-schema: ${source} -> schema/workflow.schema.json`);
