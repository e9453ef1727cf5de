import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpException, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { CONFIG, type ServiceConfig } from './tokens.js';

/** What a refused admin request is answered with: RFC 9457 problem details. */
export interface AdminProblem {
  type: string;
  title: string;
  status: 401 | 403;
  detail: string;
}

/**
 * An admin request refused by {@link AdminTokenGuard}. Its response is a problem document, so
 * a service without a problem filter still answers with one; `message` is the detail, for
 * filters that build their own.
 */
export class AdminAccessRefused extends HttpException {
  constructor(readonly problem: AdminProblem) {
    super(problem, problem.status);
    this.message = problem.detail;
  }
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Guards the endpoints that change state outside the saga's own flow (retrying a saga, replaying
 * dead letters): the request must carry `Authorization: Bearer <ADMIN_TOKEN>`.
 *
 * - `ADMIN_TOKEN` unset: every admin request answers 403 "admin endpoints are disabled: set
 *   ADMIN_TOKEN", so a deployment without a token exposes nothing and says why.
 * - Missing or wrong token: 401.
 *
 * The token is compared as SHA-256 digests with `crypto.timingSafeEqual`: digests have equal
 * length whatever the caller sends, so neither the length nor a matching prefix of the token
 * shows in the response time.
 *
 * @example
 * ```ts
 * @UseGuards(AdminTokenGuard)
 * @Post('admin/sagas/:orderId/retry')
 * retry(@Param('orderId') orderId: string) { ... }
 * ```
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(CONFIG) config: Pick<ServiceConfig, 'adminToken'>) {
    this.expected = config.adminToken ? sha256(config.adminToken) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === null) {
      throw new AdminAccessRefused({
        type: 'tag:order-saga,2026:problems/admin-disabled',
        title: 'Admin endpoints are disabled',
        status: 403,
        detail: 'admin endpoints are disabled: set ADMIN_TOKEN',
      });
    }
    const { authorization } = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, unknown> }>().headers;
    const token =
      typeof authorization === 'string' ? /^Bearer +(\S+) *$/i.exec(authorization)?.[1] : undefined;
    if (token === undefined || !timingSafeEqual(sha256(token), this.expected)) {
      throw new AdminAccessRefused({
        type: 'tag:order-saga,2026:problems/admin-unauthorized',
        title: 'Admin token required',
        status: 401,
        detail: 'this endpoint requires Authorization: Bearer <ADMIN_TOKEN>',
      });
    }
    return true;
  }
}
