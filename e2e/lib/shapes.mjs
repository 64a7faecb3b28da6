/**
 * Labelled test pictures drawn in the page with a 2D canvas (no image files or libraries needed):
 * simple filled shapes the bundled toy model was pretrained on, as PNG and JPEG.
 */
export async function drawShapes(page) {
  const files = await page.evaluate(async () => {
    const draw = {
      circle: (c, s) => c.arc(s / 2, s / 2, s * 0.32, 0, 2 * Math.PI),
      square: (c, s) => c.rect(s * 0.22, s * 0.22, s * 0.56, s * 0.56),
      triangle: (c, s) => {
        c.moveTo(s / 2, s * 0.16);
        c.lineTo(s * 0.86, s * 0.8);
        c.lineTo(s * 0.14, s * 0.8);
      },
      diamond: (c, s) => {
        c.moveTo(s / 2, s * 0.12);
        c.lineTo(s * 0.8, s / 2);
        c.lineTo(s / 2, s * 0.88);
        c.lineTo(s * 0.2, s / 2);
      },
      cross: (c, s) => {
        c.rect(s * 0.4, s * 0.15, s * 0.2, s * 0.7);
        c.rect(s * 0.15, s * 0.4, s * 0.7, s * 0.2);
      },
      ring: (c, s) => {
        c.arc(s / 2, s / 2, s * 0.34, 0, 2 * Math.PI);
        c.arc(s / 2, s / 2, s * 0.2, 0, 2 * Math.PI, true);
      },
    };
    const colours = [
      ['#ffffff', '#d6336c'],
      ['#f1f3f5', '#1c7ed6'],
    ];
    const out = [];
    for (const [label, path] of Object.entries(draw)) {
      for (const [i, [bg, fg]] of colours.entries()) {
        const size = i === 0 ? 96 : 150;
        const canvas = new OffscreenCanvas(size, size);
        const c = canvas.getContext('2d');
        c.fillStyle = bg;
        c.fillRect(0, 0, size, size);
        c.beginPath();
        path(c, size);
        c.fillStyle = fg;
        c.fill('evenodd');
        const type = i === 0 ? 'image/png' : 'image/jpeg';
        const blob = await canvas.convertToBlob({ type, quality: 0.92 });
        const bytes = new Uint8Array(await blob.arrayBuffer());
        let bin = '';
        for (const b of bytes) bin += String.fromCharCode(b);
        out.push({ name: `${label}-${i}.${type === 'image/png' ? 'png' : 'jpg'}`, mimeType: type, label, b64: btoa(bin) });
      }
    }
    return out;
  });
  return files.map((f) => ({ name: f.name, mimeType: f.mimeType, label: f.label, buffer: Buffer.from(f.b64, 'base64') }));
}
