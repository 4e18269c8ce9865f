-- The admin API's own permissions (API.md, "Groups, permissions and the admin API"), as SQLite's
-- 0003_builtin_permissions.sql seeds them.
INSERT INTO "permissions" ("codename", "description", "created_at") VALUES
  ('users.view', 'Can list and view users', now()),
  ('users.change', 'Can change users, their groups and their permissions', now()),
  ('users.ban', 'Can ban and unban users', now()),
  ('users.delete', 'Can delete users', now()),
  ('groups.manage', 'Can manage groups and permissions', now()),
  ('clients.manage', 'Can manage service clients', now()),
  ('audit.view', 'Can view the audit log', now());
