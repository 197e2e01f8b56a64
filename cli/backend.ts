// `nas backend`: which compute backend loads here, its version and threads, and why tensorflow did not.
import type { CommandModule } from 'yargs';
import { backendOption, jsonOption, threadsOption } from './options.js';
import type { BackendArgs } from './run/backend.js';

export const backendCommand: CommandModule<object, BackendArgs> = {
  command: 'backend',
  describe: 'Show which compute backend loads, its version and threads',
  builder: (y) => y.option('backend', backendOption).option('threads', threadsOption).option('json', jsonOption),
  handler: async (args) => {
    const { runBackend } = await import('./run/backend.js');
    await runBackend(args);
  },
};
