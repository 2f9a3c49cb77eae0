// Read arrays of a virtual-geotiff store with zarrita + @virtual-geotiff/zarr-codecs, outside Python.
// Usage: node read.mjs request.json   (written by tests/js/test_js_*.py)
// request: {"icechunk": {"repo": "http://host/repo", "branch": "main", "containers": ["http://host/www/"]}}
//       or {"kerchunk": "http://host/refs.json"}
//   plus "arrays": [{"path": "/data", "out": "/tmp/x.bin", "selection": [0, null, null] (optional)}]
// Each array's selection is written to "out" as C-ordered little-endian samples; stdout gets one JSON line
// {"/data": {"shape": [...], "dtype": "uint16"}, ...}.
import { readFileSync, writeFileSync } from "node:fs";
import * as zarr from "zarrita";
import { register } from "../src/index.js";
import { allowHttpFetcher } from "../src/icechunk.js";

register(zarr);
const request = JSON.parse(readFileSync(process.argv[2], "utf8"));

async function openStore() {
	if (request.icechunk) {
		const { Repository } = await import("@earthmover/icechunk");
		const { createFetchStorage } = await import("@earthmover/icechunk/fetch-storage");
		const { createHttpVirtualChunkFetcher } = await import("@earthmover/icechunk/http-virtual-chunks");
		const { repo: url, branch = "main", containers = [] } = request.icechunk;
		const access = Object.fromEntries(containers.map((prefix) => [prefix, { type: "HttpAccess" }]));
		const repo = await Repository.open(createFetchStorage(url), undefined, access);
		await repo.setHttpVirtualChunkFetcher(allowHttpFetcher(createHttpVirtualChunkFetcher()));
		const session = await repo.readonlySession({ branch });
		return session.store;
	}
	const { default: ReferenceStore } = await import("@zarrita/storage/ref");
	return ReferenceStore.fromUrl(request.kerchunk);
}

/** C-ordered copy of a zarrita result (after a transpose codec it is a strided view). */
function cOrder({ data, shape, stride }) {
	const n = shape.reduce((a, b) => a * b, 1);
	const out = new data.constructor(n);
	const index = new Array(shape.length).fill(0);
	for (let i = 0; i < n; i++) {
		let at = 0;
		for (let d = 0; d < shape.length; d++) at += index[d] * stride[d];
		out[i] = data[at];
		for (let d = shape.length - 1; d >= 0; d--) {
			if (++index[d] < shape[d]) break;
			index[d] = 0;
		}
	}
	return out;
}

const store = await openStore();
const result = {};
for (const { path, out, selection } of request.arrays) {
	const arr = await zarr.open(zarr.root(store).resolve(path), { kind: "array" });
	const got = await zarr.get(arr, selection ?? null);
	const data = cOrder(got);
	writeFileSync(out, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
	result[path] = { shape: got.shape, dtype: arr.dtype };
}
process.stdout.write(`${JSON.stringify(result)}\n`);
