import { Check, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Task } from '../tasks/task.entity';

/** "task_id runs only after depends_on_task_id is COMPLETED" (src/queue/dependency.service.ts). */
@Entity({ name: 'task_dependencies' })
@Check('task_dependencies_not_self_check', 'task_id <> depends_on_task_id')
@Index('idx_task_dependencies_depends_on', ['dependsOnTaskId'])
export class TaskDependency {
  @PrimaryColumn({ name: 'task_id', type: 'uuid', primaryKeyConstraintName: 'task_dependencies_pkey' })
  taskId!: string;

  @PrimaryColumn({ name: 'depends_on_task_id', type: 'uuid', primaryKeyConstraintName: 'task_dependencies_pkey' })
  dependsOnTaskId!: string;

  @ManyToOne(() => Task, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'task_id', foreignKeyConstraintName: 'task_dependencies_task_id_fkey' })
  task?: Task;

  @ManyToOne(() => Task, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'depends_on_task_id', foreignKeyConstraintName: 'task_dependencies_depends_on_task_id_fkey' })
  dependsOn?: Task;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
