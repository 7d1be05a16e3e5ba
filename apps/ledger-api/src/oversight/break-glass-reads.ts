import { decideRead, mayBreakGlass, type BreakGlassAccessUsed } from '@nrm/access';
import { consentDecider } from '@nrm/consent';
import type { EventStore } from '@nrm/event-store';
import { caseDataByCategory, caseDocOf, referralsOfCase } from '@nrm/projections';
import { sealTextFor, type SubjectKeyStore } from '@nrm/privacy';
import { identityOf } from '@nrm/privacy';
import type { DataCategory } from '@nrm/shared-kernel';
import { AuditTrail, type ReadRequest } from '../access/audit-trail';
import { caseNotFound } from '@nrm/shared-kernel';
import { awaitReadModel, CASE_DIRECTORY_USED, isParty, type ReadModel } from '@nrm/runtime';
import { validationPipe } from '../http/validation';
import { recordDenial, refuse } from './audited-read';
import { BreakGlassReadDto } from './oversight.dto';

const VIEW = 'case-break-glass';

/**
 * Break-glass reads: the whole case, beyond consent, for a principal with the
 * break-glass role of an agency party to the case, with a written
 * justification. `BreakGlassAccessUsed` is appended before the answer leaves
 * (no record, no data), and every refusal, including a malformed request, is
 * an `AccessDenied`: each attempt to break the glass is on the record.
 */
export class BreakGlassReads {
  private readonly audit: AuditTrail;
  /** Validated here rather than by the global pipe, so that a refused body is audited too. */
  private readonly validation = validationPipe();

  constructor(
    private readonly store: EventStore,
    private readonly readModel: ReadModel,
    private readonly keys: SubjectKeyStore,
  ) {
    this.audit = new AuditTrail(store);
  }

  async read(request: ReadRequest, caseId: string, body: unknown) {
    // Who may break the glass is the read decision's first rule, asked before the body is read.
    const gate = mayBreakGlass(request.actor);
    if (!gate.allowed) await refuse(this.audit, request, gate, { view: VIEW, caseId });
    const input = await this.validated(request, caseId, body);
    await awaitReadModel(this.store, this.readModel, CASE_DIRECTORY_USED);
    const doc = await caseDocOf(this.readModel.store, caseId);
    const party = doc !== undefined && (await isParty(this.readModel, caseId, request.actor.agencyId));
    // Beyond consent: the consent state is not weighed, so it is not read.
    const decision = decideRead({
      reader: { via: 'principal', ...request.actor },
      mode: 'break-glass',
      purpose: input.purpose,
      party,
      consent: consentDecider.initialState(),
      at: request.now,
    });
    if (!decision.allowed || !doc) {
      await recordDenial(this.audit, request, {
        view: VIEW,
        reason: 'not-a-party-or-unknown-case',
        caseId,
        purpose: input.purpose,
      });
      // The same answer as for a case that does not exist, as for every case read.
      throw caseNotFound();
    }
    const allowed = new Set(decision.allowedGrounds.map((g) => g.category));
    const categories = Object.fromEntries(
      Object.entries(
        caseDataByCategory(
          doc,
          await referralsOfCase(this.readModel.store, caseId),
          await identityOf(this.keys, doc, doc),
        ),
      ).filter(([category]) => allowed.has(category as DataCategory)),
    ) as ReturnType<typeof caseDataByCategory>;
    const returned = Object.keys(categories) as DataCategory[];
    const used: BreakGlassAccessUsed['data'] = {
      principalId: request.actor.principalId,
      agencyId: request.actor.agencyId,
      agencyKind: request.actor.agencyKind,
      caseId,
      subjectId: doc.subjectId,
      view: VIEW,
      purpose: input.purpose,
      // Sealed under the subject's key: the erasure of the subject shreds it with the identity.
      sealedJustification: await sealTextFor(this.keys, doc.subjectId, input.justification),
      categories: returned,
      requestId: request.requestId,
      accessedAt: request.now,
    };
    await this.audit.append({ type: 'BreakGlassAccessUsed', schemaVersion: 2, data: { ...used } });
    return {
      caseId,
      purpose: input.purpose,
      categories,
      basis: Object.fromEntries(returned.map((c) => [c, 'break-glass'])) as Partial<
        Record<DataCategory, string>
      >,
      breakGlass: {
        justification: input.justification,
        review: 'pending' as const,
        notice: 'This read is recorded and will be reviewed by the oversight body.',
      },
    };
  }

  private async validated(request: ReadRequest, caseId: string, body: unknown): Promise<BreakGlassReadDto> {
    try {
      return (await this.validation.transform(body, {
        type: 'body',
        metatype: BreakGlassReadDto,
        data: '',
      })) as BreakGlassReadDto;
    } catch (error) {
      await recordDenial(this.audit, request, { view: VIEW, reason: 'break-glass-request-invalid', caseId });
      throw error;
    }
  }
}
