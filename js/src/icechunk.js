// Reading Icechunk repositories published by virtual-geotiff from JavaScript (@earthmover/icechunk, WASM build).

/**
 * Wrap the fetcher made by `createHttpVirtualChunkFetcher()` (`@earthmover/icechunk/http-virtual-chunks`) so it
 * accepts the virtual chunk containers virtual-geotiff creates for plain-http sources.
 *
 * Why: Python's Icechunk needs the store option `allow_http` to read `http://` URLs, so those containers carry
 * it; the JS binding's fetcher refuses every store option ("Native HTTP transport options are not supported by
 * browser fetch"). `fetch` reads `http://` URLs anyway, so `allow_http` is dropped here; any other option still
 * reaches the official fetcher, which refuses it. Range, length and checksum checks stay the official ones.
 *
 * ```js
 * await repo.setHttpVirtualChunkFetcher(allowHttpFetcher(createHttpVirtualChunkFetcher()));
 * ```
 * @template R
 * @param {(err: null, request: {options?: Record<string, string>} & Record<string, unknown>) => R} fetcher
 * @returns {(err: null, request: {options?: Record<string, string>} & Record<string, unknown>) => R}
 */
export function allowHttpFetcher(fetcher) {
	return (err, request) => {
		const { allow_http: _allowHttp, ...options } = request.options ?? {};
		return fetcher(err, { ...request, options });
	};
}
