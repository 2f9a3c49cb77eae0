/**
 * Wrap `createHttpVirtualChunkFetcher()` of `@earthmover/icechunk/http-virtual-chunks` so that virtual chunk
 * containers carrying the `allow_http` store option (virtual-geotiff's plain-http containers) are read with
 * `fetch`; every other option is still refused by the wrapped fetcher.
 */
export declare function allowHttpFetcher<R>(
	fetcher: (err: null, request: { options?: Record<string, string> } & Record<string, unknown>) => R,
): (err: null, request: { options?: Record<string, string> } & Record<string, unknown>) => R;
