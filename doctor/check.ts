// One line of `nas doctor`: a component, whether it is there and usable, what was found, and how to get it.

export interface DoctorCheck {
  readonly name: string;
  readonly status: 'ok' | 'missing';
  /** Whether `nas` cannot train or search without it (the rest serve one command, benchmark or test each). */
  readonly required: boolean;
  /** What was found (version, path), or why it is not usable. */
  readonly detail: string;
  /** One command line or step that installs it; null when it is there. */
  readonly fix: string | null;
}

export const ok = (name: string, detail: string, required = false): DoctorCheck => ({ name, status: 'ok', required, detail, fix: null });

export const missing = (name: string, detail: string, fix: string, required = false): DoctorCheck => ({
  name,
  status: 'missing',
  required,
  detail,
  fix,
});

/** The first line of an error's message, for a check's detail. */
export const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
