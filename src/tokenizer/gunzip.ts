/** Gunzips bytes with the platform's DecompressionStream (browsers, workers, Node >= 18). */
export async function gunzipToText(gz: Uint8Array | ArrayBuffer): Promise<string> {
  if (typeof DecompressionStream === 'undefined') throw new Error('DecompressionStream is unavailable here');
  // Copying gives a plain ArrayBuffer-backed view, which Blob accepts (a SharedArrayBuffer view is not).
  const stream = new Blob([new Uint8Array(gz)]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).text();
}
