CREATE TABLE `revocation_events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_id` text,
	`subject` text,
	`not_before` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `revocation_events_created_at_idx` ON `revocation_events` (`created_at`);--> statement-breakpoint
CREATE TABLE `revoked_client_tokens` (
	`jti` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `revoked_client_tokens_expires_at_idx` ON `revoked_client_tokens` (`expires_at`);--> statement-breakpoint
CREATE TABLE `service_clients` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`scopes` text NOT NULL,
	`secret_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer
);
