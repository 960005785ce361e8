CREATE TABLE `stats_hourly` (
	`hour` integer PRIMARY KEY NOT NULL,
	`succeeded` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`canceled` integer DEFAULT 0 NOT NULL,
	`queue_wait_p50` integer,
	`queue_wait_p95` integer,
	`route_p50` integer,
	`route_p95` integer,
	`execute_p50` integer,
	`execute_p95` integer,
	`close_p50` integer,
	`close_p95` integer,
	`latency_hist` blob,
	`depth_samples` integer DEFAULT 0 NOT NULL,
	`depth_sum` integer DEFAULT 0 NOT NULL,
	`depth_max` integer,
	`depth_last_at` integer,
	`route_calls` integer DEFAULT 0 NOT NULL,
	`close_calls` integer DEFAULT 0 NOT NULL,
	`agent_runs` integer DEFAULT 0 NOT NULL,
	`input_tokens` integer DEFAULT 0 NOT NULL,
	`output_tokens` integer DEFAULT 0 NOT NULL,
	`cost_usd` real,
	`jobs_with_cost` integer DEFAULT 0 NOT NULL,
	`rolled_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `usage_hourly` (
	`hour` integer NOT NULL,
	`task_id` text NOT NULL,
	`jobs` integer NOT NULL,
	`input_tokens` integer NOT NULL,
	`output_tokens` integer NOT NULL,
	`cost_usd` real,
	`jobs_with_cost` integer NOT NULL,
	PRIMARY KEY(`hour`, `task_id`)
);
--> statement-breakpoint
CREATE INDEX `close_decisions_created` ON `close_decisions` (`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_finished` ON `jobs` (`finished_at`);--> statement-breakpoint
CREATE INDEX `route_decisions_created` ON `route_decisions` (`created_at`);