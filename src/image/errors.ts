/** A bad image input: names the source (path, URL, or byte count) and what is wrong with it. */
export class ImageError extends Error {
  constructor(
    readonly source: string,
    readonly reason: string,
  ) {
    super(`image ${source}: ${reason}`);
    this.name = 'ImageError';
  }
}
