-- The admin API's own permissions (API.md, "Groups, permissions and the admin API").
INSERT INTO `permissions` (`codename`, `description`, `created_at`) VALUES
  ('users.view', 'Can list and view users', strftime('%s', 'now') * 1000),
  ('users.change', 'Can change users, their groups and their permissions', strftime('%s', 'now') * 1000),
  ('users.ban', 'Can ban and unban users', strftime('%s', 'now') * 1000),
  ('users.delete', 'Can delete users', strftime('%s', 'now') * 1000),
  ('groups.manage', 'Can manage groups and permissions', strftime('%s', 'now') * 1000),
  ('clients.manage', 'Can manage service clients', strftime('%s', 'now') * 1000),
  ('audit.view', 'Can view the audit log', strftime('%s', 'now') * 1000);
