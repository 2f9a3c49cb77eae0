// A C-ordered copy of a zarrita result, shared by the vector tests and the end-to-end reader (e2e/read.mjs).
// zarrita returns {data, shape, stride}; after a transpose codec the data is a strided view, not C order.

/**
 * @param {{data: ArrayLike<any>, shape: number[], stride: number[]}} result
 * @param {new (n: number) => any} [Ctr] the typed array to copy into (default: the result's own)
 */
export function cOrder({ data, shape, stride }, Ctr = data.constructor) {
	const n = shape.reduce((a, b) => a * b, 1);
	const out = new Ctr(n);
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
