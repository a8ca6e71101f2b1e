// vLLM's --dtype, against what each backend computes in: the CUDA backend in bfloat16 (float16
// and float32 checkpoints are converted to bfloat16 as they load), the CPU backend in float32
// (bfloat16 and float16 weights widened as they load). `auto` is the device's own; naming the
// device's own type is the same as auto; any other is refused by name, float16 included (there
// are no float16 kernels: serving a float16 checkpoint on cuda computes in bfloat16).
import { defaultDevice } from '../backend/deviceBackend.js';
import { CliError } from './errors.js';

const COMPUTES_IN: Record<string, string> = { cuda: 'bfloat16', cpu: 'float32' };

/** Checks --dtype against the device (resolved as the engine will: cuda when available). */
export async function checkDtype(dtype: string, device: string | undefined): Promise<void> {
  if (dtype === 'auto') return;
  const on = device ?? (await defaultDevice());
  const own = COMPUTES_IN[on];
  if (dtype === own) return;
  const why = dtype === 'float16' ? ' (no float16 kernels; float16 checkpoints run as bfloat16 on cuda)' : '';
  throw new CliError(`--dtype ${dtype} is not supported on the ${on} backend, which computes in ${own}${why}; use --dtype auto or ${own}`);
}
