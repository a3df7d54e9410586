// Kubernetes names for a Compose project's objects. Compose names allow
// upper case, `_` and `.`; Kubernetes object names are DNS-1123 labels here
// (a DockerService name is a label value, at most 63 characters). Two Compose
// names that fold to the same Kubernetes name are refused rather than merged.

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAME = 63;

/** `<project>-<name>`, lower case, `_` and `.` as `-`; throws when the result is not a DNS-1123 label. */
export function objectName(project: string, composeName: string): string {
  const name = `${project}-${composeName}`.toLowerCase().replace(/[_.]/g, '-');
  if (name.length > MAX_NAME || !DNS_LABEL.test(name)) {
    throw new Error(
      `Compose name ${JSON.stringify(composeName)} in project ${JSON.stringify(project)} makes the ` +
        `Kubernetes name ${JSON.stringify(name)}, which is not a DNS-1123 label of at most ${MAX_NAME} ` +
        'characters: shorten the project or the name',
    );
  }
  return name;
}

/** Names one section's objects (services, networks…) and refuses two that fold together. */
export function sectionNames(
  project: string,
  section: string,
  names: readonly string[],
): Map<string, string> {
  const byObject = new Map<string, string>();
  const taken = new Map<string, string>();
  for (const composeName of [...names].sort()) {
    const name = objectName(project, composeName);
    const other = taken.get(name);
    if (other !== undefined) {
      throw new Error(
        `${section}.${other} and ${section}.${composeName} both become ${name} in Kubernetes: rename one`,
      );
    }
    taken.set(name, composeName);
    byObject.set(composeName, name);
  }
  return byObject;
}
