/** What a header reader learns about one image: the other files QEMU opens because of it. */

export interface BackingReference {
  /** The name exactly as stored in the image (relative, absolute, or a protocol string such as `nbd:`). */
  readonly name: string;
  /**
   * The backing format the image records (qcow2 extension 0xE2792ACA, QED's no-probe flag), or undefined
   * when it records none and the backing file's format would have to be probed.
   */
  readonly format: string | undefined;
}

export interface ImageHeader {
  readonly backing: BackingReference | undefined;
  /** qcow2 external data file name as stored (only when the incompatible feature bit says it is used). */
  readonly dataFile: string | undefined;
  /** VMDK extent file names as stored in the descriptor, other than the image file itself. */
  readonly extents: readonly string[];
}

export const NO_CHAIN: ImageHeader = { backing: undefined, dataFile: undefined, extents: [] };
