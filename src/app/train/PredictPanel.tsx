import { useEffect, useRef, useState, type DragEvent } from 'react';
import { zeroShotProbabilities } from '../../coop/zero-shot';
import type { ModelRuntime } from '../store/model-store';
import { useTrainStore } from '../store/train-store';
import { cleanFeatures } from './features';
import { adapterProbabilities } from './adapter-files';
import { FEATURE_METHOD_NAMES } from '../../coop/adapter-file';

interface Prediction {
  name: string;
  url: string;
  coop: Float32Array | null;
  zeroShot: Float32Array | null;
  /** The imported coop-adapter file's (CLAP, LP++, TaskRes, CLIP-Adapter). */
  adapter?: Float32Array | null;
  error?: string;
}

function Bars({ probs, names, testid }: { probs: Float32Array; names: string[]; testid: string }) {
  const order = [...probs.keys()].sort((a, b) => probs[b] - probs[a]).slice(0, 5);
  return (
    <ol className="bars" data-testid={testid} data-top1={names[order[0]]} data-probs={Array.from(probs, (p) => p.toFixed(4)).join(',')}>
      {order.map((k) => (
        <li key={k}>
          <span className="bar-name">{names[k]}</span>
          <span className="bar" style={{ width: `${(100 * probs[k]).toFixed(1)}%` }} />
          <span className="bar-p">{(100 * probs[k]).toFixed(1)}%</span>
        </li>
      ))}
    </ol>
  );
}

function Webcam({ onCapture }: { onCapture: (blob: Blob) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => () => stream?.getTracks().forEach((t) => t.stop()), [stream]);
  // The <video> exists only once a stream is set, so the stream is attached after that render, not in start().
  useEffect(() => {
    const v = video.current;
    if (!v || !stream) return;
    v.srcObject = stream;
    v.play().catch((e: Error) => setError(`The webcam could not be played: ${e.message}`));
  }, [stream]);
  const start = async () => {
    setError(null);
    try {
      if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser offers no camera access (getUserMedia)');
      setStream(await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } }));
    } catch (e) {
      setError(`The webcam could not be opened: ${(e as Error).message}`);
    }
  };
  const capture = () => {
    const v = video.current;
    if (!v || !v.videoWidth) return setError('The webcam has no picture yet; wait a moment and capture again.');
    setError(null);
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext('2d')!.drawImage(v, 0, 0);
    canvas.toBlob((b) => b && onCapture(b), 'image/png');
  };
  return (
    <div className="webcam">
      {stream ? (
        <>
          <video ref={video} muted playsInline data-testid="webcam-video" />
          <button type="button" onClick={capture} data-testid="webcam-capture">
            Capture and predict
          </button>
          <button type="button" onClick={() => setStream(null)}>
            Close webcam
          </button>
        </>
      ) : (
        <button type="button" onClick={() => void start()} data-testid="webcam-start">
          Use webcam
        </button>
      )}
      {error && (
        <p className="banner error" data-testid="webcam-error">
          {error}
        </p>
      )}
    </div>
  );
}

export function PredictPanel({ runtime }: { runtime: ModelRuntime }) {
  const { snapshot, setup, baselines, importedAdapter } = useTrainStore();
  // Its weights act on the features of the model it was checked against: another loaded model does not use it.
  const adapterFile = importedAdapter && importedAdapter.modelKey === runtime.key ? importedAdapter.file : null;
  const [pred, setPred] = useState<Prediction | null>(null);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const names = setup?.classNames ?? [];
  const promptReady = !!snapshot && snapshot.textFeatures.length > 0 && names.length > 0;
  const ready = promptReady || !!adapterFile;

  const predict = async (blob: Blob, name: string) => {
    if (!ready) return;
    const url = URL.createObjectURL(blob);
    setPred((old) => {
      if (old) URL.revokeObjectURL(old.url);
      return { name, url, coop: null, zeroShot: null };
    });
    const dim = runtime.model.manifest.embed_dim;
    const { features, errors } = await cleanFeatures([{ blob, name }], runtime);
    if (errors.size) return setPred({ name, url, coop: null, zeroShot: null, error: errors.get(0) });
    const scale = Math.min(runtime.model.manifest.logit_scale, 100);
    const coop = promptReady ? zeroShotProbabilities(features, snapshot.textFeatures, dim, scale) : null;
    const zs = promptReady && baselines.hand ? zeroShotProbabilities(features, baselines.hand.zeroShot.text, dim, scale) : null;
    const adapter = adapterFile ? adapterProbabilities(adapterFile.weights, features, dim) : null;
    setPred({ name, url, coop, zeroShot: zs, adapter });
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const f = e.dataTransfer.files[0];
    if (f) void predict(f, f.name);
  };

  return (
    <section className="results-panel predict" data-testid="predict-panel">
      <h3>Predict</h3>
      {!ready && <p className="hint">Train or import a prompt (or an adapter file) first.</p>}
      <div
        className={over ? 'card-drop over' : 'card-drop'}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <span>Drop an image</span>
        <button type="button" disabled={!ready} onClick={() => input.current?.click()}>
          Choose…
        </button>
        <input
          ref={input}
          hidden
          type="file"
          accept="image/*"
          data-testid="predict-input"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void predict(f, f.name);
            e.target.value = '';
          }}
        />
      </div>
      {ready && <Webcam onCapture={(b) => void predict(b, 'webcam')} />}
      {pred && (
        <div className="prediction" data-testid="prediction" data-name={pred.name}>
          <img src={pred.url} alt={pred.name} />
          {pred.error && <p className="banner error">{pred.error}</p>}
          {pred.coop && (
            <div>
              <h4>Learned prompt (CoOp)</h4>
              <Bars probs={pred.coop} names={names} testid="predict-coop" />
            </div>
          )}
          {pred.adapter && adapterFile && (
            <div>
              <h4>Imported {FEATURE_METHOD_NAMES[adapterFile.weights.method]} file</h4>
              <Bars probs={pred.adapter} names={adapterFile.classNames} testid="predict-adapter" />
            </div>
          )}
          {pred.zeroShot && (
            <div>
              <h4>Zero-shot ("a photo of a {'{}'}.")</h4>
              <Bars probs={pred.zeroShot} names={names} testid="predict-zeroshot" />
            </div>
          )}
        </div>
      )}
    </section>
  );
}
