import { useMemo, useRef, useState } from 'react';
import { useTrainStore } from '../store/train-store';
import { fitImageMap, meanCosine, textScale, textXY } from './prompt-map';

/** Class colours: dark enough for 4.5:1 on white, distinct in hue; more classes cycle. */
export const CLASS_COLORS = ['#1d4ed8', '#b91c1c', '#15803d', '#7e22ce', '#a16207', '#be185d', '#0e7490', '#4d7c0f', '#c2410c', '#4338ca', '#374151', '#9f1239'];
const color = (k: number) => CLASS_COLORS[k % CLASS_COLORS.length];

const W = 640;
const H = 380;
const PAD = 16;

interface Trail {
  key: string;
  /** Learned text positions after each epoch seen, [K, 2] each. */
  epochs: Array<{ epoch: number; xy: Float32Array }>;
}

/**
 * "Watch the prompts move": the training and test images' features on their first two principal axes, each
 * class's zero-shot text feature (hollow square) and learned text feature (filled diamond, with its path over the
 * epochs). Hover an image for its picture; click a class (in the legend or on a point) to pick it out.
 */
export function PromptMap() {
  const images = useTrainStore((s) => s.mapImages);
  const setupKey = useTrainStore((s) => s.setup?.key);
  const zeroShot = useTrainStore((s) => s.baselines.hand?.zeroShot.text);
  const snapshot = useTrainStore((s) => s.snapshot);
  const status = useTrainStore((s) => s.history.status);
  const [hover, setHover] = useState<number | null>(null);
  const [picked, setPicked] = useState<number | null>(null);
  const trail = useRef<Trail>({ key: '', epochs: [] });

  const map = useMemo(() => (images && images.labels.length >= 2 ? fitImageMap(images.features, images.labels.length, images.dim) : null), [images]);
  const current = !!images && setupKey === images.key;
  const k = images?.textClasses.length ?? 0;
  const zsOk = current && !!zeroShot && !!images && zeroShot.length === k * images.dim;
  const scale = useMemo(() => (map && zsOk ? textScale(map.xy, map.pca, zeroShot!) : 1), [map, zsOk, zeroShot]);
  const zsXY = useMemo(() => (map && zsOk ? textXY(map.pca, zeroShot!, scale) : null), [map, zsOk, zeroShot, scale]);
  const learned = current && snapshot && images && snapshot.textFeatures.length === k * images.dim ? snapshot.textFeatures : null;
  const learnedXY = useMemo(() => (map && learned && zsOk ? textXY(map.pca, learned, scale) : null), [map, learned, zsOk, scale]);

  // The learned prompts' path: one point per epoch seen on this page (it starts again with each Train).
  if (images && trail.current.key !== images.key) trail.current = { key: images.key, epochs: [] };
  if (learnedXY && snapshot) {
    const list = trail.current.epochs;
    const last = list[list.length - 1];
    if (!last || snapshot.epoch > last.epoch) list.push({ epoch: snapshot.epoch, xy: learnedXY });
    else if (snapshot.epoch < last.epoch) trail.current.epochs = [{ epoch: snapshot.epoch, xy: learnedXY }];
  }

  if (!images || !map) {
    return (
      <>
        <h2 id="prompt-map-title">Watch the prompts move</h2>
        <p className="hint" data-testid="prompt-map-empty">
          Press Train: the images' features are drawn here on their two main axes, with each class's zero-shot prompt and the learned one moving as the run trains.
        </p>
      </>
    );
  }

  // One frame holds every point drawn, so the learned prompts stay in view however far they move.
  const all: number[] = [...map.xy];
  if (zsXY) all.push(...zsXY);
  for (const e of trail.current.epochs) all.push(...e.xy);
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < all.length; i += 2) {
    x0 = Math.min(x0, all[i]);
    x1 = Math.max(x1, all[i]);
    y0 = Math.min(y0, all[i + 1]);
    y1 = Math.max(y1, all[i + 1]);
  }
  const sx = (W - 2 * PAD) / Math.max(x1 - x0, 1e-9);
  const sy = (H - 2 * PAD) / Math.max(y1 - y0, 1e-9);
  const s = Math.min(sx, sy);
  const ox = PAD + (W - 2 * PAD - s * (x1 - x0)) / 2;
  const oy = PAD + (H - 2 * PAD - s * (y1 - y0)) / 2;
  const px = (x: number) => ox + s * (x - x0);
  // SVG's y grows downwards; the second axis is drawn upwards.
  const py = (y: number) => H - (oy + s * (y - y0));

  const n = images.labels.length;
  const nTrain = images.split.filter((x) => x === 'train').length;
  const dim = (cls: number) => picked !== null && picked !== cls;
  const cos = learned && zeroShot ? meanCosine(learned, zeroShot, images.dim) : NaN;
  const epochs = trail.current.epochs;
  const summary =
    `${nTrain} training and ${n - nTrain} test images on the two main axes of their features ` +
    `(${(100 * map.explained[0]).toFixed(0)}% and ${(100 * map.explained[1]).toFixed(0)}% of the variance). ` +
    (learned
      ? `After epoch ${snapshot!.epoch}, the learned prompts' mean cosine to the zero-shot ones is ${cos.toFixed(3)}${status === 'running' ? ' and they move with every epoch' : ''}.`
      : zsXY
        ? 'The zero-shot prompts are drawn; the learned ones appear after the first epoch.'
        : 'The prompts appear once the baselines are measured.');
  const hovered = hover !== null && hover < n ? hover : null;

  return (
    <>
      <h2 id="prompt-map-title">Watch the prompts move</h2>
      <p className="hint">
        Each dot is an image (filled: training, ring: test), coloured by class; □ is the class's zero-shot prompt ("a photo of a {'{}'}."), ◆ its learned prompt, with
        its path over the epochs. Text features are centred on their class mean and drawn to the images' scale. Hover a dot to see the image; pick a class to single it out.
      </p>
      <div className="prompt-map" data-testid="prompt-map" data-points={n} data-classes={images.classNames.length} data-epochs={epochs.length} data-learned={learned ? 'true' : 'false'}>
        <div className="prompt-map-plot">
          <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="prompt-map-summary" onMouseLeave={() => setHover(null)}>
            <rect x={0} y={0} width={W} height={H} fill="#fff" />
            {Array.from({ length: n }, (_, i) => {
              const cls = images.labels[i];
              const test = images.split[i] === 'test';
              return (
                <circle
                  key={i}
                  cx={px(map.xy[2 * i])}
                  cy={py(map.xy[2 * i + 1])}
                  r={hovered === i ? 6 : 3.5}
                  fill={test ? '#fff' : color(cls)}
                  stroke={color(cls)}
                  strokeWidth={test ? 1.5 : 0.5}
                  opacity={dim(cls) ? 0.12 : 0.85}
                  onMouseEnter={() => setHover(i)}
                  onClick={() => setPicked(picked === cls ? null : cls)}
                />
              );
            })}
            {zsXY &&
              images.textClasses.map((cls, r) => {
                const path = [[zsXY[2 * r], zsXY[2 * r + 1]], ...epochs.map((e) => [e.xy[2 * r], e.xy[2 * r + 1]])];
                const x = px(zsXY[2 * r]);
                const y = py(zsXY[2 * r + 1]);
                return (
                  <g key={`t${cls}`} opacity={dim(cls) ? 0.15 : 1} onClick={() => setPicked(picked === cls ? null : cls)}>
                    {path.length > 1 && <polyline points={path.map(([a, b]) => `${px(a)},${py(b)}`).join(' ')} fill="none" stroke={color(cls)} strokeWidth={1.5} strokeDasharray="3 2" />}
                    <rect x={x - 6} y={y - 6} width={12} height={12} fill="#fff" stroke={color(cls)} strokeWidth={2.5} />
                    {learnedXY && (
                      <polygon
                        points={(() => {
                          const lx = px(learnedXY[2 * r]);
                          const ly = py(learnedXY[2 * r + 1]);
                          return `${lx},${ly - 9} ${lx + 9},${ly} ${lx},${ly + 9} ${lx - 9},${ly}`;
                        })()}
                        fill={color(cls)}
                        stroke="#111827"
                        strokeWidth={1.5}
                      />
                    )}
                  </g>
                );
              })}
          </svg>
          {hovered !== null && (
            <div className="prompt-map-tip" data-testid="prompt-map-tip" style={{ left: `${(100 * px(map.xy[2 * hovered])) / W}%`, top: `${(100 * py(map.xy[2 * hovered + 1])) / H}%` }}>
              {images.urls[hovered] && <img src={images.urls[hovered]} alt="" width={72} height={72} />}
              <span>
                {images.names[hovered]}
                <br />
                {images.classNames[images.labels[hovered]]} · {images.split[hovered]}
              </span>
            </div>
          )}
        </div>
        <div className="prompt-map-side">
          <p id="prompt-map-summary" className="chart-summary" data-testid="prompt-map-summary">
            {summary}
          </p>
          <ul className="prompt-map-legend" aria-label="Classes: pick one to single it out">
            {images.classNames.map((name, cls) => (
              <li key={cls}>
                <button type="button" aria-pressed={picked === cls} data-testid="prompt-map-class" onClick={() => setPicked(picked === cls ? null : cls)}>
                  <span className="swatch" style={{ background: color(cls) }} aria-hidden="true" />
                  {name}
                </button>
              </li>
            ))}
          </ul>
        </div>
      </div>
    </>
  );
}
