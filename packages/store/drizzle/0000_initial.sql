CREATE TABLE `close_decisions` (
	`id` text PRIMARY KEY NOT NULL,
	`task_id` text NOT NULL,
	`job_id` text,
	`source` text NOT NULL,
	`action` text NOT NULL,
	`confidence` real,
	`reason` text NOT NULL,
	`fallback` text,
	`reject_code` text,
	`template_id` text,
	`template_version` text,
	`template_hash` text,
	`prompt_chars` integer DEFAULT 0 NOT NULL,
	`model_called` integer NOT NULL,
	`latency_ms` integer NOT NULL,
	`raw_output` text,
	`error_class` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `close_decisions_task` ON `close_decisions` (`task_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`component` text NOT NULL,
	`level` text NOT NULL,
	`kind` text NOT NULL,
	`message` text NOT NULL,
	`details_json` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_created` ON `events` (`created_at`);--> statement-breakpoint
CREATE INDEX `events_component` ON `events` (`component`,`created_at`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL,
	`task_id` text,
	`requested_task_id` text,
	`lane` text NOT NULL,
	`state` text NOT NULL,
	`stage` text,
	`attempt` integer DEFAULT 0 NOT NULL,
	`max_attempts` integer NOT NULL,
	`timeout_s` integer NOT NULL,
	`next_run_at` integer NOT NULL,
	`cancel_requested` integer DEFAULT false NOT NULL,
	`error_class` text,
	`error_message` text,
	`stderr_tail` text,
	`reply_message_id` text,
	`retry_of` text,
	`channel_id` text NOT NULL,
	`user_id` text NOT NULL,
	`session_id` text,
	`usage_json` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`started_at` integer,
	`replied_at` integer,
	`finished_at` integer,
	`queue_wait_ms` integer,
	`route_ms` integer,
	`execute_ms` integer,
	`close_ms` integer,
	`total_ms` integer,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `jobs_state_lane_next` ON `jobs` (`state`,`lane`,`next_run_at`);--> statement-breakpoint
CREATE INDEX `jobs_task_state` ON `jobs` (`task_id`,`state`);--> statement-breakpoint
CREATE INDEX `jobs_message` ON `jobs` (`message_id`);--> statement-breakpoint
CREATE TABLE `maintenance_runs` (
	`job` text PRIMARY KEY NOT NULL,
	`last_start_at` integer,
	`last_success_at` integer,
	`last_error` text,
	`last_error_at` integer,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`next_run_at` integer
);
--> statement-breakpoint
CREATE TABLE `memory` (
	`id` text PRIMARY KEY NOT NULL,
	`task_id` text,
	`content` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `memory_task` ON `memory` (`task_id`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`task_id` text,
	`role` text NOT NULL,
	`content` text NOT NULL,
	`job_id` text,
	`channel_id` text NOT NULL,
	`user_id` text NOT NULL,
	`session_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `messages_task_created` ON `messages` (`task_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `route_decisions` (
	`id` text PRIMARY KEY NOT NULL,
	`job_id` text NOT NULL,
	`message_id` text NOT NULL,
	`task_id` text,
	`decision` text NOT NULL,
	`confidence` real,
	`reason` text NOT NULL,
	`fallback` text,
	`reject_code` text,
	`candidates_json` text DEFAULT '[]' NOT NULL,
	`input_summary` text DEFAULT '' NOT NULL,
	`template_id` text,
	`template_version` text,
	`template_hash` text,
	`prompt_chars` integer DEFAULT 0 NOT NULL,
	`model_called` integer NOT NULL,
	`latency_ms` integer NOT NULL,
	`raw_output` text,
	`error_class` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `route_decisions_task` ON `route_decisions` (`task_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `route_decisions_job` ON `route_decisions` (`job_id`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`title` text NOT NULL,
	`summary` text DEFAULT '' NOT NULL,
	`state` text NOT NULL,
	`executor` text NOT NULL,
	`session_id` text,
	`workspace` text NOT NULL,
	`user_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`closed_at` integer,
	`closed_by` text,
	`close_reason` text,
	`close_confidence` real
);
--> statement-breakpoint
CREATE INDEX `tasks_state_updated` ON `tasks` (`state`,`updated_at`);