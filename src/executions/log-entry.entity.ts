import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { vocabularyCheck } from '../db/vocabulary';
import { DateTimeScalar, JSONScalar, UUIDScalar, type JSONValue } from '../graphql/scalars';
import { TaskExecution } from './execution.entity';

export enum LogLevel {
  DEBUG = 'debug',
  INFO = 'info',
  WARN = 'warn',
  ERROR = 'error',
}
registerEnumType(LogLevel, { name: 'LogLevel', description: 'Severity of a log entry, lowest first.' });

/**
 * One entry of an execution's log (migrations/1767100000000-ExecutionLogEntries.ts). `seq` counts
 * from 0 per execution without gaps; `task_executions.log_count` is the next one.
 */
@ObjectType('LogEntry', {
  simpleResolvers: true,
  description: 'One entry of an execution’s log (TaskExecution.logEntries); executionLogAppended delivers them as they are appended.',
})
@Entity({ name: 'execution_log_entries' })
@Check('execution_log_entries_level_check', vocabularyCheck('level', LogLevel))
@Check('execution_log_entries_seq_check', 'seq >= 0')
export class ExecutionLogEntry {
  @Field(() => UUIDScalar)
  @PrimaryColumn({ name: 'execution_id', type: 'uuid', primaryKeyConstraintName: 'execution_log_entries_pkey' })
  executionId!: string;

  /** Declared for the foreign key only. */
  @ManyToOne(() => TaskExecution, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'execution_id', foreignKeyConstraintName: 'execution_log_entries_execution_id_fkey' })
  execution?: TaskExecution;

  @Field(() => Int, { description: 'Position in the execution’s log, from 0, without gaps: the order entries were appended in.' })
  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'execution_log_entries_pkey' })
  seq!: number;

  @Field(() => DateTimeScalar, { description: 'When it was appended (an entry’s own "at", if any, stays in data).' })
  @Column({ type: 'timestamptz', default: () => 'clock_timestamp()' })
  at!: Date;

  @Field(() => LogLevel, { nullable: true, description: 'The entry’s "level", when it was one of the LogLevel values (lowercase).' })
  @Column({ type: 'varchar', length: 10, nullable: true })
  level!: LogLevel | null;

  @Field(() => String, { nullable: true, description: 'The entry itself when it was a string, else its "message" when that was a string.' })
  @Column({ type: 'text', nullable: true })
  message!: string | null;

  @Field(() => JSONScalar, {
    nullable: true,
    description: 'The rest of the entry: an object without message and level, or a value that was not an object.',
  })
  @Column({ type: 'jsonb', nullable: true })
  data!: JSONValue;
}
