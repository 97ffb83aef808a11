import { Inject, Injectable } from '@nestjs/common';
import { type MlsPeek, peekMlsMessage } from '@qpc/crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { toB64url } from '../common/bytes.js';
import { Clock } from '../common/clock.js';
import { ServerError } from '../common/server-error.js';
import { DeliveryService, type SendResult } from '../delivery/delivery.service.js';
import type { SessionInfo } from '../messenger/session.guard.js';
import { isUniqueViolation } from '../messenger/sql.js';

function peek(bytes: Uint8Array, field: string): MlsPeek {
  try {
    return peekMlsMessage(bytes);
  } catch {
    throw new ServerError('groups.malformed', 400, `${field} is not an MLS message`);
  }
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return !!a && a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

export interface CommitInput {
  clientMessageId: string;
  commit: Uint8Array;
  welcome?: Uint8Array;
  addDevices: string[];
  removeDevices: string[];
}

/**
 * The delivery service's view of MLS groups: it reads only the framing (group id, epoch,
 * content type) and keeps the epoch and the member devices. The group row's lock orders
 * handshake messages: exactly one commit per epoch is accepted.
 */
@Injectable()
export class GroupsService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(DeliveryService) private readonly delivery: DeliveryService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async create(s: SessionInfo, groupId: Uint8Array): Promise<{ groupId: string; epoch: number }> {
    if (groupId.length < 8 || groupId.length > 64) throw new ServerError('groups.malformed', 400, 'A group id has 8–64 bytes');
    try {
      await this.ds.transaction(async (m) => {
        await m.query(`INSERT INTO mls_group (group_id, epoch, created_at) VALUES ($1, 0, $2)`, [Buffer.from(groupId), new Date(this.clock.now())]);
        await m.query(`INSERT INTO group_member (group_id, device_id) VALUES ($1, $2)`, [Buffer.from(groupId), s.deviceId]);
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ServerError('groups.exists', 409, 'A group with this id exists');
      throw e;
    }
    return { groupId: toB64url(groupId), epoch: 0 };
  }

  async get(s: SessionInfo, groupId: Uint8Array): Promise<{ groupId: string; epoch: number; members: string[] }> {
    const { epoch, members } = await this.state(this.ds.manager, groupId, s.deviceId, false);
    return { groupId: toB64url(groupId), epoch, members };
  }

  private async state(m: EntityManager, groupId: Uint8Array, deviceId: string, lock: boolean): Promise<{ epoch: number; members: string[] }> {
    const g: { epoch: string }[] = await m.query(`SELECT epoch FROM mls_group WHERE group_id = $1${lock ? ' FOR UPDATE' : ''}`, [Buffer.from(groupId)]);
    if (!g[0]) throw new ServerError('groups.not_found', 404, 'No such group');
    const rows: { device_id: string }[] = await m.query(`SELECT device_id FROM group_member WHERE group_id = $1 ORDER BY device_id`, [Buffer.from(groupId)]);
    const members = rows.map((r) => r.device_id);
    // Not a member and no such group look different on purpose only to members' devices: both are 404 to others.
    if (!members.includes(deviceId)) throw new ServerError('groups.not_found', 404, 'No such group');
    return { epoch: Number(g[0].epoch), members };
  }

  /**
   * A commit for the group's current epoch is accepted and the epoch advances; any other epoch
   * is 409 `delivery.stale_epoch`. The commit goes to every other member device (removed ones
   * included, so they learn it), the Welcome to the added devices, in the same transaction.
   */
  async commit(s: SessionInfo, groupId: Uint8Array, input: CommitInput): Promise<SendResult & { epoch: number; duplicate: boolean }> {
    const head = peek(input.commit, 'commit');
    if ((head.wireFormat !== 'mls_private_message' && head.wireFormat !== 'mls_public_message') || head.contentType !== 'commit') {
      throw new ServerError('groups.not_a_commit', 400, 'commit must be an MLS commit message');
    }
    if (!sameBytes(head.groupId, groupId)) throw new ServerError('groups.wrong_group', 400, 'The commit belongs to another group');
    if (input.addDevices.length > 0 && !input.welcome) throw new ServerError('groups.welcome_required', 400, 'Adding devices needs their Welcome');
    if (input.welcome && peek(input.welcome, 'welcome').wireFormat !== 'mls_welcome') throw new ServerError('groups.malformed', 400, 'welcome must be an MLS Welcome');
    await this.delivery.admit(s.deviceId, input.welcome ? [input.commit, input.welcome] : [input.commit]);

    return this.delivery.send(s.deviceId, input.clientMessageId, async (m, now, key) => {
      const { epoch, members } = await this.state(m, groupId, s.deviceId, true);
      if (head.epoch !== BigInt(epoch)) {
        throw new ServerError('delivery.stale_epoch', 409, `The group is at epoch ${epoch}; this commit is for epoch ${head.epoch}`, { currentEpoch: epoch });
      }
      const added = input.addDevices.filter((d) => !members.includes(d));
      if (added.length > 0) {
        const ok: { id: string }[] = await m.query(`SELECT id FROM device WHERE id = ANY($1) AND revoked_at IS NULL`, [added]);
        if (ok.length !== added.length) throw new ServerError('groups.unknown_device', 400, 'addDevices names a device that does not exist or is revoked');
      }
      await m.query(`UPDATE mls_group SET epoch = epoch + 1 WHERE group_id = $1`, [Buffer.from(groupId)]);
      const items = [
        ...members.filter((d) => d !== s.deviceId).map((deviceId) => ({ deviceId, payload: input.commit, senderDeviceId: s.deviceId, groupId })),
        ...added.map((deviceId) => ({ deviceId, payload: input.welcome!, senderDeviceId: s.deviceId, groupId })),
      ];
      if (added.length > 0) await m.query(`INSERT INTO group_member (group_id, device_id) SELECT $1, unnest($2::uuid[])`, [Buffer.from(groupId), added]);
      if (input.removeDevices.length > 0) await m.query(`DELETE FROM group_member WHERE group_id = $1 AND device_id = ANY($2)`, [Buffer.from(groupId), input.removeDevices]);
      return this.delivery.enqueue(m, items, now, true, key, { epoch: epoch + 1 });
    });
  }

  /** Application messages (and proposals) fan out to every other member device. */
  async message(s: SessionInfo, groupId: Uint8Array, clientMessageId: string, message: Uint8Array): Promise<SendResult & { duplicate: boolean }> {
    const head = peek(message, 'message');
    if ((head.wireFormat !== 'mls_private_message' && head.wireFormat !== 'mls_public_message') || head.contentType === 'commit') {
      throw new ServerError('groups.not_an_application_message', 400, 'message must be an MLS application message or proposal; commits go to /commits');
    }
    if (!sameBytes(head.groupId, groupId)) throw new ServerError('groups.wrong_group', 400, 'The message belongs to another group');
    await this.delivery.admit(s.deviceId, [message]);
    // One statement: a group that does not exist has no members, so both it and non-membership are 404.
    return this.delivery.groupMessage(s.deviceId, clientMessageId, groupId, message);
  }
}
