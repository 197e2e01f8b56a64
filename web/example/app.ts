// The example page's script (built to dist/web/example/app.js, importing ../nas.js): loads an export, then shows
// the top-5 classes of the image the user picks. The page's state is in #status's data-state (loading, ready,
// busy, done, error) and each result row carries its exact probability, for tests.
import * as tf from '@tensorflow/tfjs';
import { type ClassScore, classify, loadNasModel, type NasModel, readPixels } from '../index.js';

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} is missing`);
  return el;
}

const status = element('status', HTMLParagraphElement);
const file = element('file', HTMLInputElement);
const preview = element('preview', HTMLImageElement);
const results = element('results', HTMLTableElement);

function show(state: string, text: string): void {
  status.dataset['state'] = state;
  status.textContent = text;
}

function render(scores: readonly ClassScore[]): void {
  const body = results.tBodies[0];
  if (!body) return;
  body.replaceChildren(
    ...scores.map((s) => {
      const row = document.createElement('tr');
      row.dataset['index'] = String(s.index);
      row.dataset['probability'] = String(s.probability);
      const name = document.createElement('td');
      name.textContent = s.className;
      const p = document.createElement('td');
      p.className = 'p';
      p.textContent = `${(100 * s.probability).toFixed(2)}%`;
      row.append(name, p);
      return row;
    }),
  );
  results.hidden = false;
}

async function loadImage(f: File): Promise<HTMLImageElement> {
  URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(f);
  await preview.decode();
  preview.hidden = false;
  return preview;
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const backend = params.get('backend');
  if (backend !== null && !(await tf.setBackend(backend))) throw new Error(`tfjs backend '${backend}' did not start`);
  await tf.ready();
  const modelUrl = params.get('model') ?? '/model/';
  const nas: NasModel = await loadNasModel(modelUrl);
  const { size, channels } = nas.card.preprocessing.input;
  show('ready', `Model ${modelUrl} (${nas.card.dataset}, ${nas.card.classNames.length} classes, ${size}x${size}x${channels} input, tfjs ${tf.getBackend()}). Pick an image.`);
  file.disabled = false;
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (!f) return;
    show('busy', `Classifying ${f.name}…`);
    loadImage(f)
      .then((img) => {
        render(classify(nas, readPixels(img), 5));
        show('done', `${f.name}: top ${Math.min(5, nas.card.classNames.length)} classes`);
      })
      .catch((e: unknown) => show('error', `Cannot classify ${f.name}: ${e instanceof Error ? e.message : String(e)}`));
  });
}

main().catch((e: unknown) => show('error', `Cannot load the model: ${e instanceof Error ? e.message : String(e)}`));
