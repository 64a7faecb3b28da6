/** torchvision Resize(int): the shorter side becomes `size`, the longer one is scaled and truncated (int()). */
export function shorterSideSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}

/** Python's round(): halves go to the even neighbour, which torchvision's center crop inherits. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision CenterCrop offsets. A crop larger than the image is first zero-padded as torchvision does,
 * which shows up here as a negative offset (pixels outside the image read as 0).
 */
export function centerCropOffsets(
  width: number,
  height: number,
  cropWidth: number,
  cropHeight: number,
): { left: number; top: number } {
  const offset = (size: number, crop: number) =>
    size >= crop ? roundHalfEven((size - crop) / 2) : -Math.floor((crop - size) / 2);
  return { left: offset(width, cropWidth), top: offset(height, cropHeight) };
}
