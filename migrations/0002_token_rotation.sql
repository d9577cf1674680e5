ALTER TABLE "personal_api_keys" ADD COLUMN "last_rolled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "secret_api_token_backup" text;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_secret_api_token_backup_unique" UNIQUE("secret_api_token_backup");