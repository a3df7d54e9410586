import type Dockerode from 'dockerode';
import { statusOf } from './status-code.js';

export interface ObservedVolume {
  name: string;
  driver: string;
  labels: Record<string, string>;
  /** The driver options it was created with (compared when a volume is adopted). */
  options: Record<string, string>;
  mountpoint?: string;
}

export interface VolumeCreate {
  name: string;
  driver: string;
  driverOptions: Record<string, string>;
  labels: Record<string, string>;
}

/** The external client for Docker volumes: observe / create / delete, each idempotent. */
export const volumeClient = {
  async observe(api: Dockerode, name: string): Promise<ObservedVolume | undefined> {
    try {
      const v = (await api.getVolume(name).inspect()) as {
        Name: string;
        Driver: string;
        Labels: Record<string, string> | null;
        Options?: Record<string, string> | null;
        Mountpoint?: string;
      };
      return {
        name: v.Name,
        driver: v.Driver,
        labels: v.Labels ?? {},
        options: v.Options ?? {},
        ...(v.Mountpoint ? { mountpoint: v.Mountpoint } : {}),
      };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  },

  /**
   * Creates the volume and returns it as Docker has it afterwards. Docker
   * answers a create for a name that exists with the existing volume and no
   * error (someone may have created it since our observe): the caller checks
   * the returned labels before it treats the volume as its own.
   */
  async create(api: Dockerode, v: VolumeCreate): Promise<ObservedVolume> {
    await api.createVolume({ Name: v.name, Driver: v.driver, DriverOpts: v.driverOptions, Labels: v.labels });
    const created = await volumeClient.observe(api, v.name);
    if (!created) throw new Error(`volume ${v.name} vanished right after its create`);
    return created;
  },

  /** Removes the volume; gone already counts as done. Returns 'inUse' when a container still uses it. */
  async delete(api: Dockerode, name: string): Promise<'deleted' | 'inUse'> {
    try {
      await api.getVolume(name).remove();
      return 'deleted';
    } catch (err) {
      const code = statusOf(err);
      if (code === 404) return 'deleted';
      if (code === 409) return 'inUse';
      throw err;
    }
  },
};
