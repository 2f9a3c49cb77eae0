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
import { cOrder } from "../test/c_order.js";

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
