CREATE TABLE `background_jobs` (
	`name` text PRIMARY KEY NOT NULL,
	`last_run_at` integer NOT NULL,
	`ran_by` text
);
