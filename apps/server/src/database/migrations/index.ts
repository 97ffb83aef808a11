import { Init1764086400000 } from './1764086400000-Init.js';
import { Fapp1764090000000 } from './1764090000000-Fapp.js';
import { Accounts1764100000000 } from './1764100000000-Accounts.js';
import { KeyPackages1764100100000 } from './1764100100000-KeyPackages.js';
import { Delivery1764100200000 } from './1764100200000-Delivery.js';
import { FappRevocation1764200000000 } from './1764200000000-FappRevocation.js';
import { Transparency1764300000000 } from './1764300000000-Transparency.js';
import { KeyBackup1764400000000 } from './1764400000000-KeyBackup.js';
import { DeliveryFunctions1764500000000 } from './1764500000000-DeliveryFunctions.js';
import { FappMeshReply1764600000000 } from './1764600000000-FappMeshReply.js';
import { DeliverySendBatch1764650000000 } from './1764650000000-DeliverySendBatch.js';
import { FappSlotStartIndex1764700000000 } from './1764700000000-FappSlotStartIndex.js';
import { MeshSafSnapshot1764750000000 } from './1764750000000-MeshSafSnapshot.js';
import { DeliveryAckedSeq1764800000000 } from './1764800000000-DeliveryAckedSeq.js';
import { FappAnnounceWrite1764900000000 } from './1764900000000-FappAnnounceWrite.js';
import { FappAnnounceWriteBinary1765000000000 } from './1765000000000-FappAnnounceWriteBinary.js';
import { FappAnnounceWriteUnchangedSlots1765100000000 } from './1765100000000-FappAnnounceWriteUnchangedSlots.js';
import { FappAnnounceInlineEnvelope1765200000000 } from './1765200000000-FappAnnounceInlineEnvelope.js';
import { FappAnnounceHotUpdate1765300000000 } from './1765300000000-FappAnnounceHotUpdate.js';

/** Every migration, in order. New migrations are appended here. */
export const migrations = [Init1764086400000, Fapp1764090000000, Accounts1764100000000, KeyPackages1764100100000, Delivery1764100200000, FappRevocation1764200000000, Transparency1764300000000, KeyBackup1764400000000, DeliveryFunctions1764500000000, FappMeshReply1764600000000, DeliverySendBatch1764650000000, FappSlotStartIndex1764700000000, MeshSafSnapshot1764750000000, DeliveryAckedSeq1764800000000, FappAnnounceWrite1764900000000, FappAnnounceWriteBinary1765000000000, FappAnnounceWriteUnchangedSlots1765100000000, FappAnnounceInlineEnvelope1765200000000, FappAnnounceHotUpdate1765300000000];
