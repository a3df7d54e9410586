// The canonical Compose project the loader prints (compose-go's
// types.Project as JSON: long syntax only, paths absolute, variables
// resolved). Only what the mapping reads is typed; every key is still seen by
// the mapping's key tables (service-keys.ts), so an untyped key is reported,
// never dropped.

export type JsonObject = Record<string, unknown>;

export interface ComposeProject {
  name: string;
  services?: Record<string, ComposeService>;
  networks?: Record<string, ComposeNetwork>;
  volumes?: Record<string, ComposeVolume>;
  configs?: Record<string, ComposeFileObject>;
  secrets?: Record<string, ComposeFileObject>;
  [key: string]: unknown;
}

/** A service: its keys are dispatched by the table in service-keys.ts. */
export type ComposeService = JsonObject & {
  image?: string;
  networks?: Record<string, ComposeServiceNetwork | null>;
  network_mode?: string;
};

export interface ComposeServiceNetwork {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  mac_address?: string;
  [key: string]: unknown;
}

export interface ComposePort {
  mode?: string;
  host_ip?: string;
  target: number;
  published?: string;
  protocol?: string;
  [key: string]: unknown;
}

export interface ComposeServiceVolume {
  type: string;
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: JsonObject;
  volume?: JsonObject;
  tmpfs?: JsonObject;
  [key: string]: unknown;
}

export interface ComposeFileReference {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
  [key: string]: unknown;
}

export interface ComposeNetwork {
  name?: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  ipam?: { driver?: string; config?: JsonObject[]; options?: Record<string, string> };
  external?: boolean;
  internal?: boolean;
  attachable?: boolean;
  labels?: Record<string, string>;
  enable_ipv6?: boolean;
  [key: string]: unknown;
}

export interface ComposeVolume {
  name?: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  external?: boolean;
  labels?: Record<string, string>;
  [key: string]: unknown;
}

/** A top-level config or secret. */
export interface ComposeFileObject {
  name?: string;
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean;
  [key: string]: unknown;
}
