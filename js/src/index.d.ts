// Types of @virtual-geotiff/zarr-codecs (the implementation is plain ES modules with JSDoc).

/** A chunk as zarrita passes it between codecs. */
export interface Chunk {
	data: ArrayLike<number | bigint> & { buffer: ArrayBufferLike; byteOffset: number; length: number };
	shape: number[];
	stride: number[];
}

/** What zarrita hands a codec's `fromConfig`. */
export interface ChunkMetadata {
	dataType: string;
	shape: number[];
	codecs: { name: string; configuration?: Record<string, unknown> }[];
	fillValue: unknown;
}

interface CodecBase<In, Out> {
	kind: "array_to_array" | "array_to_bytes" | "bytes_to_bytes";
	decode(data: In): Out | Promise<Out>;
	/** Always throws: these codecs only decode existing TIFF chunks. */
	encode(data: unknown): never;
}

export interface CodecClass<C> {
	fromConfig(configuration: Record<string, unknown> | undefined, meta: ChunkMetadata): C;
}

export declare const HorizontalPredictorCodec: CodecClass<CodecBase<Chunk, Chunk>>;
export declare const FloatingPointPredictorCodec: CodecClass<CodecBase<Uint8Array, Chunk>>;
export declare const BitUnpackCodec: CodecClass<CodecBase<Uint8Array, Chunk>>;
export declare const Mask8BitCodec: CodecClass<CodecBase<Chunk, Chunk>>;
export declare const PadCodec: CodecClass<CodecBase<Uint8Array, Uint8Array>>;
export declare const BitOrderCodec: CodecClass<CodecBase<Uint8Array, Uint8Array>>;
export declare const PackBitsCodec: CodecClass<CodecBase<Uint8Array, Uint8Array>>;
export declare const LzwCodec: CodecClass<CodecBase<Uint8Array, Uint8Array>>;
export declare const JpegCodec: CodecClass<CodecBase<Uint8Array, Uint8Array>>;
export declare const WebpCodec: CodecClass<CodecBase<Uint8Array, Uint8Array>>;
export declare const PngCodec: CodecClass<CodecBase<Uint8Array, Uint8Array>>;

/** Codecs decoded in JavaScript by this package, by Zarr codec name. */
export declare const CODECS: Readonly<Record<string, CodecClass<CodecBase<unknown, unknown>>>>;

/** Codecs registered only to fail with a clear message (no JavaScript decoder here). */
export declare const PYTHON_ONLY: readonly string[];

/** Raised for a corrupt chunk or a chunk this package cannot decode; `codec` names the codec. */
export declare class VirtualGeoTiffCodecError extends Error {
	codec: string;
	constructor(codec: string, message: string);
}

/**
 * Add every `virtual_geotiff.*` codec to zarrita's codec registry. Idempotent.
 * @param zarr the zarrita module (`import * as zarr from "zarrita"`) or its `registry` Map
 * @returns the registered codec names
 */
export declare function register(
	zarr: { registry: Map<string, () => Promise<unknown>> } | Map<string, () => Promise<unknown>>,
): string[];
