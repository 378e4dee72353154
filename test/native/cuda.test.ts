// The CUDA kernels' standalone test project (native/cuda-tests): builds it with cmake (+ nvcc when present),
// runs the fp64 CPU references' own checks, asserts the kernel test binary compiles for Hopper (sm_90a
// machine code + compute_90 PTX), and runs the GPU tests where a CUDA device exists — skipping them, with
// the binary's reason, where there is none (CI has no GPU). The build directory is native/build/cuda-tests
// (git-ignored), so later runs are incremental.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, venvPython } from './helpers';

const sourceDir = join(projectRoot, 'native', 'cuda-tests');
// Per checkout (git-ignored): a CMake cache belongs to one source tree.
const buildDir = join(projectRoot, 'native', 'build', 'cuda-tests');

function which(program: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** nvcc to build with: $CUDACXX, the toolkit's own binary, or whatever is on PATH. */
function findNvcc(): string | undefined {
  if (process.env.CUDACXX && existsSync(process.env.CUDACXX)) return process.env.CUDACXX;
  if (existsSync('/usr/local/cuda/bin/nvcc')) return '/usr/local/cuda/bin/nvcc';
  return which('nvcc');
}

type RunResult = { status: number | null; output: string };

function run(command: string, args: string[], cwd = projectRoot): RunResult {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** "N passed, M failed" from a harness binary's closing line. */
function counts(output: string): { passed: number; failed: number } {
  const match = /^(\d+) passed, (\d+) failed$/m.exec(output);
  assert.ok(match, `no closing "N passed, N failed" line in:\n${output}`);
  return { passed: Number(match[1]), failed: Number(match[2]) };
}

/** libtorch's CMake folder from the venv's torch, for the GRPO reference-vs-loss.cc test; undefined without it. */
function torchCmakeDir(): string | undefined {
  if (!existsSync(venvPython)) return undefined;
  const found = run(venvPython, ['-c', 'import torch; print(torch.utils.cmake_prefix_path)']);
  return found.status === 0 ? join(found.output.trim(), 'Torch') : undefined;
}

const cmake = which('cmake');
const cxx = which('c++') ?? which('g++');
const nvcc = findNvcc();
const missingTools = !cmake ? 'cmake is not installed' : !cxx ? 'no C++ compiler' : undefined;
const torchDir = missingTools ? undefined : torchCmakeDir();

describe('native/cuda-tests', { skip: missingTools }, () => {
  let configured: RunResult = { status: null, output: '' };

  test('configures with cmake', () => {
    const args = ['-S', sourceDir, '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release'];
    if (nvcc) args.push(`-DCMAKE_CUDA_COMPILER=${nvcc}`);
    args.push(`-DSIRI_CUDA_TESTS_TORCH_DIR=${torchDir ?? ''}`);
    configured = run('cmake', args);
    assert.equal(configured.status, 0, configured.output);
  });

  test('the fp64 CPU references pass their own checks (Philox known answers, finite differences, χ²)', () => {
    const built = run('cmake', ['--build', buildDir, '--target', 'siri_cuda_reference_tests']);
    assert.equal(built.status, 0, built.output);
    const result = run(join(buildDir, 'siri_cuda_reference_tests'), []);
    const { passed, failed } = counts(result.output);
    assert.equal(failed, 0, result.output);
    assert.equal(passed, 7, result.output);
    assert.equal(result.status, 0);
  });

  test(
    "the GRPO reference equals the engine's loss.cc (autograd) in every aggregation mode",
    { skip: torchDir ? undefined : 'torch is not installed in .venv' },
    () => {
      const built = run('cmake', ['--build', buildDir, '--target', 'siri_grpo_reference_vs_engine']);
      assert.equal(built.status, 0, built.output);
      const result = run(join(buildDir, 'siri_grpo_reference_vs_engine'), []);
      const { passed, failed } = counts(result.output);
      assert.equal(failed, 0, result.output);
      assert.equal(passed, 9, result.output);
    },
  );

  describe(
    'CUDA kernels',
    { skip: nvcc ? undefined : 'nvcc is not installed: the kernels cannot be compiled here' },
    () => {
      test('the kernel test binary compiles with nvcc for sm_90a machine code + compute_90 PTX', () => {
        assert.match(
          configured.output,
          /cuBLAS (found|not found)/,
          'the CUDA part of the project was configured',
        );
        const built = run('cmake', ['--build', buildDir, '--target', 'siri_cuda_tests']);
        assert.equal(built.status, 0, built.output);
        assert.ok(existsSync(join(buildDir, 'siri_cuda_tests')));
        const flags = readFileSync(join(buildDir, 'CMakeFiles', 'siri_cuda_tests.dir', 'flags.make'), 'utf8');
        assert.match(flags, /arch=compute_90a,code=\[sm_90a\]/);
        assert.match(flags, /arch=compute_90,code=\[compute_90\]/);
      });

      test('kernels match the fp64 references on the GPU', (t) => {
        const binary = join(buildDir, 'siri_cuda_tests');
        const result = run(binary, []);
        assert.equal(result.status, 0, result.output);
        const skipped = /^no CUDA device: skipped.*$/m.exec(result.output);
        if (skipped) {
          t.skip(skipped[0]);
          return;
        }
        const { passed, failed } = counts(result.output);
        assert.equal(failed, 0, result.output);
        assert.ok(passed >= 30, result.output);
      });
    },
  );
});
