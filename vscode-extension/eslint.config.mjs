// Lint rules for the extension: typescript-eslint's type-checked recommended set.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "out/**", "node_modules/**", "schema/**", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      eqeqeq: ["error", "always"],
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "vscode", message: "Only the glue modules may import vscode (see README)." }] },
      ],
      "@typescript-eslint/explicit-function-return-type": ["error", { allowExpressions: true }],
      // node:test's describe/it return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        { allowForKnownSafeCalls: [{ from: "package", name: ["describe", "it"], package: "node:test" }] },
      ],
      "@typescript-eslint/consistent-type-imports": "off",
    },
  },
  {
    // The glue modules talk to VS Code; every other module stays pure and unit-testable.
    files: ["src/extension.ts", "src/client.ts", "src/commands.ts", "src/debug.ts", "src/python.ts"],
    rules: { "no-restricted-imports": "off" },
  },
);
