// check.mjs: what the interop scripts share — a failure type, checks, the
// environment, and how a failed run ends.

export class Failure extends Error {}

// check throws a Failure saying what was wanted (and what came) unless cond.
export function check(cond, what, got) {
  if (!cond) {
    const detail = got === undefined ? "" : `; got ${JSON.stringify(got)}`;
    throw new Failure(what + detail);
  }
}

// env returns a required environment variable.
export function env(name) {
  const v = process.env[name];
  if (!v) throw new Failure(`environment variable ${name} is not set`);
  return v;
}

// fail reports a failed run on stderr (with metamcp's stderr and any extra
// lines), closes the client and exits 1.
export async function fail(script, e, client, stderr, ...extra) {
  const why = e instanceof Failure ? e.message : e?.stack ?? String(e);
  console.error(`${script}: FAIL: ${why}`);
  for (const line of extra) if (line) console.error(line);
  if (stderr.length) console.error("--- metamcp stderr ---\n" + stderr.join(""));
  try {
    await client.close();
  } catch {
    // already failing
  }
  process.exit(1);
}
