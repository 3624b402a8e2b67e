/** One regular file of a tar stream. */
export interface TarFile {
  /** At most 100 bytes: only the ustar name field is written, no prefix. */
  readonly name: string;
  readonly size: number;
  readonly body: Uint8Array | AsyncIterable<Uint8Array>;
}

const BLOCK = 512;

/**
 * A POSIX ustar archive of regular files, streamed. Every entry has mode 0644,
 * owner 0:0 and mtime 0, so equal input always gives equal bytes — and equal
 * digests. Sizes must be below 8 GiB (11 octal digits).
 */
export async function* tarStream(files: Iterable<TarFile> | AsyncIterable<TarFile>): AsyncGenerator<Uint8Array> {
  for await (const file of files) {
    yield ustarHeader(file.name, file.size);
    let written = 0;
    for await (const chunk of chunks(file.body)) {
      written += chunk.length;
      yield chunk;
    }
    if (written !== file.size) throw new Error(`tar: ${file.name}: body has ${written} bytes, header says ${file.size}`);
    const padding = (BLOCK - (file.size % BLOCK)) % BLOCK;
    if (padding > 0) yield new Uint8Array(padding);
  }
  // End of archive: two zero blocks (POSIX.1-2017, pax "ustar Interchange Format").
  yield new Uint8Array(2 * BLOCK);
}

async function* chunks(body: Uint8Array | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) yield body;
  else yield* body;
}

function ustarHeader(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name longer than 100 bytes: ${name}`);
  if (!Number.isSafeInteger(size) || size < 0 || size >= 8 ** 11) throw new Error(`tar: ${name}: size ${size} out of range`);
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'utf8');
  octal(header, 100, 8, 0o644);
  octal(header, 108, 8, 0); // uid
  octal(header, 116, 8, 0); // gid
  octal(header, 124, 12, size);
  octal(header, 136, 12, 0); // mtime
  header.write('0', 156, 'ascii'); // typeflag: regular file
  header.write('ustar\u000000', 257, 'ascii'); // magic "ustar\0", version "00"
  // The checksum is the byte sum of the header with its own field read as eight spaces.
  header.write(' '.repeat(8), 148, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'ascii');
  return header;
}

function octal(header: Buffer, offset: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, 'ascii');
}
