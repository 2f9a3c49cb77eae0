// Open a virtual-geotiff cube in an Icechunk repository over HTTP, read one time step with zarrita and the
// virtual_geotiff codecs, and draw a linear min..max grey quick-look at one screen pixel per array pixel.
import { Repository } from "@earthmover/icechunk";
import { createFetchStorage } from "@earthmover/icechunk/fetch-storage";
import { createHttpVirtualChunkFetcher } from "@earthmover/icechunk/http-virtual-chunks";
import { register } from "@virtual-geotiff/zarr-codecs";
import { allowHttpFetcher } from "@virtual-geotiff/zarr-codecs/icechunk";
import * as zarr from "zarrita";

register(zarr);

/** The grey value of each sample: floor((v - lo) * 255 / (hi - lo)), exact for integer samples. */
export function stretch(values, count) {
	let lo = Infinity;
	let hi = -Infinity;
	for (let i = 0; i < count; i++) {
		const v = Number(values[i]);
		if (v < lo) lo = v;
		if (v > hi) hi = v;
	}
	const span = hi > lo ? hi - lo : 1;
	const grey = new Uint8ClampedArray(count);
	for (let i = 0; i < count; i++) grey[i] = Math.floor(((Number(values[i]) - lo) * 255) / span);
	return { grey, lo, hi };
}

async function main() {
	const query = new URLSearchParams(location.search);
	const repoUrl = new URL(query.get("repo"), location.href).href;
	const containers = query.getAll("container");
	const t = Number(query.get("t") ?? 0);
	const access = Object.fromEntries(containers.map((prefix) => [prefix, { type: "HttpAccess" }]));
	const repo = await Repository.open(createFetchStorage(repoUrl), undefined, access);
	await repo.setHttpVirtualChunkFetcher(allowHttpFetcher(createHttpVirtualChunkFetcher()));
	const session = await repo.readonlySession({ branch: query.get("branch") ?? "main" });
	const arr = await zarr.open(zarr.root(session.store).resolve(query.get("array") ?? "/data"), { kind: "array" });
	const selection = arr.shape.length === 3 ? [t, null, null] : [null, null];
	const { data, shape, stride } = await zarr.get(arr, selection);
	const [height, width] = shape;
	const values = new Float64Array(height * width);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) values[y * width + x] = Number(data[y * stride[0] + x * stride[1]]);
	}
	const { grey, lo, hi } = stretch(values, values.length);
	const canvas = document.getElementById("quicklook");
	canvas.width = width;
	canvas.height = height;
	const image = new ImageData(width, height);
	for (let i = 0; i < grey.length; i++) {
		image.data.set([grey[i], grey[i], grey[i], 255], i * 4);
	}
	canvas.getContext("2d").putImageData(image, 0, 0);
	document.getElementById("status").textContent = `${arr.dtype} ${arr.shape.join("×")}, t=${t}, ${lo}..${hi}`;
	document.title = "quicklook ready";
}

main().catch((err) => {
	document.getElementById("status").textContent = `error: ${err?.stack ?? err}`;
	document.title = `quicklook error: ${err}`;
	console.error(err);
});
