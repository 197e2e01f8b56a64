// The backends a command may ask for (--backend), apart from the code that loads them (backend/select.ts), so that a
// command's options and checks load without tfjs.
export const backendChoices = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof backendChoices)[number];
export type BackendName = Exclude<BackendChoice, 'auto'>;
