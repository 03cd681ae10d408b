// Bundles the extension into dist/extension.js, or (with --tests) each unit test into out/test/.
// Tests are bundled without marking `vscode` external: a test that imports it fails to build.
import { readdirSync } from "node:fs";
import * as esbuild from "esbuild";

const tests = process.argv.includes("--tests");
const production = process.argv.includes("--production");

const common = { bundle: true, platform: "node", target: "node18", format: "cjs", logLevel: "warning" };

if (tests) {
  const entryPoints = readdirSync("test")
    .filter((name) => name.endsWith(".test.ts"))
    .map((name) => `test/${name}`);
  await esbuild.build({ ...common, entryPoints, outdir: "out/test", sourcemap: "inline" });
} else {
  await esbuild.build({
    ...common,
    entryPoints: ["src/extension.ts"],
    outfile: "dist/extension.js",
    external: ["vscode"],
    minify: production,
    sourcemap: !production,
  });
}
