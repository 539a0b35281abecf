// Validates Kubernetes manifests without a cluster, as the API server would accept them:
//
//   node validate.mjs [--dump DIR] FILE...
//
// Each FILE holds one or more YAML documents (the output of `kubectl kustomize`). Every
// object is checked three ways, and one line is printed per object:
//   ok FILE: KIND NAMESPACE/NAME
//   not ok FILE: KIND NAMESPACE/NAME: WHAT
// 1. its schema: the Kubernetes OpenAPI schemas (npm kubernetes-models) and the
//    prometheus-operator CRD schemas (npm @kubernetes-models/prometheus-operator), compiled
//    ajv validators: types, enums, formats, required fields;
// 2. unknown fields: those schemas allow them (as the OpenAPI does), the API server's
//    strict field validation (kubectl's default) refuses them, and a misspelt field such
//    as `hostPid` would otherwise vanish silently. The same packages' TypeScript types
//    catch them: each object is type-checked as an object literal, whose excess
//    properties are errors at every depth;
// 3. the API server's rules no schema expresses (apiServerRules below), each quoting the
//    error the server gives.
// --dump DIR writes each FILE's objects as a JSON array to DIR/BASENAME.json (for jq).
// Exit status: 0 all valid, 1 some object is not, 2 usage or unreadable input.
import { readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import ts from "typescript";

const require = createRequire(import.meta.url);
// The modules are resolved from here, so node_modules may sit beside a copy of this file.
const here = dirname(fileURLToPath(import.meta.url));

// apiVersion/kind -> the module that holds its model class and its type I<Kind>.
function modulePath(apiVersion, kind) {
	const candidates = [`kubernetes-models/${apiVersion}/${kind}`];
	if (apiVersion.startsWith("monitoring.coreos.com/"))
		candidates.unshift(`@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`);
	for (const c of candidates) {
		try {
			require.resolve(c);
			return c;
		} catch {
			// try the next package
		}
	}
	return null;
}

function label(obj) {
	const m = obj.metadata || {};
	return `${obj.kind} ${m.namespace || "-"}/${m.name || "?"}`;
}

function podSpecOf(obj) {
	const s = obj.spec || {};
	if (obj.kind === "Pod") return s;
	if (s.template && s.template.spec) return s.template.spec;
	if (s.jobTemplate && s.jobTemplate.spec && s.jobTemplate.spec.template)
		return s.jobTemplate.spec.template.spec;
	return null;
}

// Cross-field rules of k8s.io/kubernetes pkg/apis/core/validation (and apps) that a
// schema cannot say; the messages are the API server's.
function apiServerRules(obj) {
	const errors = [];
	const pod = podSpecOf(obj);
	if (pod) {
		const containers = [...(pod.initContainers || []), ...(pod.containers || [])];
		for (const c of containers) {
			const sc = c.securityContext || {};
			const privileged = sc.privileged === true;
			for (const m of c.volumeMounts || []) {
				if (m.mountPropagation === "Bidirectional" && !privileged)
					errors.push(`container ${c.name}: volumeMounts ${m.name}: ` +
						"Bidirectional mount propagation is available only to privileged containers");
			}
			if (sc.allowPrivilegeEscalation === false) {
				if (privileged)
					errors.push(`container ${c.name}: cannot set \`allowPrivilegeEscalation\` to false and \`privileged\` to true`);
				if (((sc.capabilities || {}).add || []).includes("CAP_SYS_ADMIN"))
					errors.push(`container ${c.name}: cannot set \`allowPrivilegeEscalation\` to false and \`capabilities.Add\` CAP_SYS_ADMIN`);
			}
			if (pod.hostNetwork === true) {
				for (const p of c.ports || []) {
					if (p.hostPort !== undefined && p.hostPort !== p.containerPort)
						errors.push(`container ${c.name}: port ${p.containerPort}: ` +
							"hostPort must match containerPort when `hostNetwork` is true");
				}
			}
			const volumes = new Set((pod.volumes || []).map((v) => v.name));
			for (const m of c.volumeMounts || []) {
				if (!volumes.has(m.name))
					errors.push(`container ${c.name}: volumeMounts ${m.name}: not found`);
			}
		}
	}
	if (["DaemonSet", "Deployment", "StatefulSet", "ReplicaSet"].includes(obj.kind)) {
		const want = ((obj.spec || {}).selector || {}).matchLabels || {};
		const have = (((obj.spec || {}).template || {}).metadata || {}).labels || {};
		for (const [k, v] of Object.entries(want)) {
			if (have[k] !== v)
				errors.push("spec.template.metadata.labels: `selector` does not match template `labels`");
		}
	}
	return errors;
}

function usage(msg) {
	process.stderr.write(`validate.mjs: ${msg}\nusage: node validate.mjs [--dump DIR] FILE...\n`);
	process.exit(2);
}

const args = process.argv.slice(2);
let dumpDir = null;
if (args[0] === "--dump") {
	if (args.length < 2) usage("--dump needs a directory");
	dumpDir = args[1];
	args.splice(0, 2);
}
if (!args.length) usage("no file to validate");

// Per file: its objects, and the errors of each.
const files = [];
for (const file of args) {
	let text;
	try {
		text = readFileSync(file, "utf8");
	} catch (e) {
		usage(`cannot read ${file}: ${e.message}`);
	}
	const entries = [];
	for (const doc of parseAllDocuments(text)) {
		if (doc.errors.length) {
			entries.push({ obj: null, name: "(YAML)", errors: doc.errors.map((e) => e.message) });
			continue;
		}
		const obj = doc.toJS();
		if (obj === null || obj === undefined) continue;
		const entry = { obj, name: label(obj), errors: [], module: null };
		entries.push(entry);
		if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
			entry.errors.push("no apiVersion or kind");
			continue;
		}
		entry.module = modulePath(obj.apiVersion, obj.kind);
		if (!entry.module) {
			entry.errors.push(`no schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`);
			continue;
		}
		const Model = require(entry.module)[obj.kind];
		try {
			new Model(obj).validate();
		} catch (e) {
			entry.errors.push(e.message);
		}
		entry.errors.push(...apiServerRules(obj));
	}
	files.push({ file, entries });
	if (dumpDir)
		writeFileSync(join(dumpDir, `${basename(file)}.json`),
			JSON.stringify(entries.filter((e) => e.obj).map((e) => e.obj)));
}

// One TypeScript program for every file: one source per file, one object per line.
const sources = new Map();
files.forEach((f, i) => {
	const lines = [];
	const imports = new Map();
	f.entries.forEach((e) => {
		if (!e.module) return;
		if (!imports.has(e.module)) imports.set(e.module, `T${imports.size}`);
	});
	for (const [mod, alias] of imports)
		lines.push(`import type { I${mod.split("/").pop()} as ${alias} } from "${mod}";`);
	f.lineOf = new Map();
	f.entries.forEach((e, j) => {
		if (!e.module) return;
		f.lineOf.set(lines.length, e);
		lines.push(`export const o${j}: ${imports.get(e.module)} = ${JSON.stringify(e.obj)};`);
	});
	// Beside node_modules, so that the imports resolve as they do for this script.
	sources.set(join(here, `manifests-${i}.ts`), { text: lines.join("\n") + "\n", file: f });
});
const options = {
	noEmit: true, strict: true, skipLibCheck: true, types: [],
	module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16,
	target: ts.ScriptTarget.ES2020,
};
const host = ts.createCompilerHost(options);
const { getSourceFile, fileExists, readFile } = host;
host.getSourceFile = (name, lang, ...rest) =>
	sources.has(name) ? ts.createSourceFile(name, sources.get(name).text, lang) :
		getSourceFile.call(host, name, lang, ...rest);
host.fileExists = (name) => sources.has(name) || fileExists.call(host, name);
host.readFile = (name) => (sources.has(name) ? sources.get(name).text : readFile.call(host, name));
const program = ts.createProgram([...sources.keys()], options, host);
for (const d of ts.getPreEmitDiagnostics(program)) {
	const src = d.file && sources.get(d.file.fileName);
	const msg = ts.flattenDiagnosticMessageText(d.messageText, " ");
	if (!src) {
		process.stderr.write(`validate.mjs: TypeScript: ${msg}\n`);
		process.exit(2);
	}
	const { line } = d.file.getLineAndCharacterOfPosition(d.start);
	const entry = src.file.lineOf.get(line);
	if (!entry) {
		process.stderr.write(`validate.mjs: TypeScript, outside any object: ${msg}\n`);
		process.exit(2);
	}
	// An anonymous type is printed whole (pages of it): name it instead. Keys are
	// quoted in the JSON source: unquote them.
	const text = msg.replace(/type '\{[^']*\}'/g, "its type").replace(/'"([^"']*)"'/g, "'$1'")
		.replace(/\s+/g, " ");
	entry.errors.push(`${fieldPath(d.file, d.start)}: ${text}`);
}

// The field at a position of `export const oN: T = {...}`, as spec.containers[0].name.
function fieldPath(sourceFile, pos) {
	let node = sourceFile;
	for (;;) {
		const child = node.getChildren(sourceFile).find((c) => c.getStart(sourceFile) <= pos && pos < c.end);
		if (!child) break;
		node = child;
	}
	const parts = [];
	for (let n = node; n && !ts.isVariableDeclaration(n); n = n.parent) {
		if (ts.isPropertyAssignment(n)) {
			parts.unshift(`.${n.name.text}`);
		} else if (ts.isArrayLiteralExpression(n.parent || {})) {
			parts.unshift(`[${n.parent.elements.indexOf(n)}]`);
		}
	}
	return parts.join("").replace(/^\./, "") || "(object)";
}

let failed = 0;
for (const f of files) {
	for (const e of f.entries) {
		if (e.errors.length) {
			failed++;
			// One mistake repeated (a misspelt key in every rule) is reported 5 times.
			for (const err of e.errors.slice(0, 5)) console.log(`not ok ${f.file}: ${e.name}: ${err}`);
			if (e.errors.length > 5)
				console.log(`not ok ${f.file}: ${e.name}: ... and ${e.errors.length - 5} more`);
		} else {
			console.log(`ok ${f.file}: ${e.name}`);
		}
	}
}
process.exit(failed ? 1 : 0);
