CREATE TABLE "django_refresh_tokens" (
	"jti" text PRIMARY KEY NOT NULL,
	"used_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "legacy_id" integer;--> statement-breakpoint
CREATE INDEX "django_refresh_tokens_expires_at_idx" ON "django_refresh_tokens" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "users_legacy_id_unique" ON "users" USING btree ("legacy_id");