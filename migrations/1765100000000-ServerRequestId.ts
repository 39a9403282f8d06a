import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * audit_log.server_request_id: the id the gateway made for the request, beside request_id (the
 * client's X-Request-Id when it sent a well-formed one). A client chooses its id, so two
 * principals may send the same one; the server's is unique per request.
 */
export class ServerRequestId1765100000000 implements MigrationInterface {
  name = 'ServerRequestId1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "audit_log" ADD COLUMN "server_request_id" uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "audit_log" DROP COLUMN "server_request_id"`);
  }
}
