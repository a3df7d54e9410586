// Which commit a git context's ref names now: the daemon clones the
// repository itself, but a moving branch is a changed context, so the
// controller reads the repository's refs (isomorphic-git's ls-remote over
// smart HTTP; git:// and ssh:// are the daemon's alone to reach) and puts the
// commit in the build hash.
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import type { GitContext } from '../../crds/dockerbuild.js';
import type { Static } from 'typebox';

export type GitContextSpec = Static<typeof GitContext>;

export type RefLookup =
  | { commit: string }
  /** A git:// or ssh:// URL: not resolved here; the spec alone is hashed. */
  | { commit: undefined }
  | { error: string };

const SHA = /^[0-9a-f]{40}$/;

/**
 * The remote context BuildKit clones: `url#ref`, the ref as written (a
 * server need not serve a fetch by commit). The whole repository is the
 * context: the BuildKit of Docker 20.10 refuses a `:directory` suffix
 * ("subdir not supported yet"); spec.dockerfile names a Dockerfile in a
 * subdirectory.
 */
export function remoteContext(ctx: GitContextSpec): string {
  return `${ctx.url}#${ctx.ref ?? ''}`;
}

/** What the ref names on the server now. */
export async function lookUpRef(ctx: GitContextSpec, timeoutMs = 15_000): Promise<RefLookup> {
  if (!/^https?:\/\//.test(ctx.url)) return { commit: undefined };
  if (ctx.ref && SHA.test(ctx.ref)) return { commit: ctx.ref };
  let refs: Awaited<ReturnType<typeof git.listServerRefs>>;
  try {
    refs = await Promise.race([
      git.listServerRefs({ http, url: ctx.url, symrefs: true, peelTags: true }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000}s`)), timeoutMs).unref(),
      ),
    ]);
  } catch (err) {
    return { error: `cannot read the refs of ${ctx.url}: ${(err as Error).message}` };
  }
  const wanted = ctx.ref ? [`refs/heads/${ctx.ref}`, `refs/tags/${ctx.ref}`, ctx.ref] : ['HEAD'];
  for (const name of wanted) {
    const found = refs.find((r) => r.ref === name);
    // An annotated tag names a tag object; the build is of the commit it peels to.
    if (found) return { commit: found.peeled ?? found.oid };
  }
  return { error: `${ctx.ref ?? 'HEAD'} is not a branch or tag of ${ctx.url}` };
}
