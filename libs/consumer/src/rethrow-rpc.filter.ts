import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * Lets a message handler's error reach {@link KafkaInboxTransport} unchanged. Nest's default RPC
 * filter turns every error into `{ status: 'error', message: 'Internal server error' }`, which
 * would hide whether the fault is transient (wait it out) or not (count attempts, dead-letter),
 * and the error class the dead-letter record must name.
 */
@Catch()
export class RethrowRpcExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
