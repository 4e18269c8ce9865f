// The mails Portcullis sends: subject, text and HTML parts, each with the one link that matters.

export interface Mail {
  subject: string
  text: string
  html: string
}

function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)
}

/** `base` with `token=<token>` added to its query, keeping any query it already has. */
export function linkWithToken (base: string, token: string): string {
  const url = new URL(base)
  url.searchParams.set('token', token)
  return url.toString()
}

function layout (greeting: string, paragraphs: string[], action?: { label: string, url: string }, footer?: string): { text: string, html: string } {
  const text = [
    greeting,
    '',
    ...paragraphs.flatMap(p => [p, '']),
    ...(action ? [`${action.label}: ${action.url}`, ''] : []),
    ...(footer ? [footer] : [])
  ].join('\n').trimEnd() + '\n'
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">',
    `<p>${escapeHtml(greeting)}</p>`,
    ...paragraphs.map(p => `<p>${escapeHtml(p)}</p>`),
    ...(action ? [`<p><a href="${escapeHtml(action.url)}">${escapeHtml(action.label)}</a></p>`, `<p style="font-size: small">Or copy this address into your browser: ${escapeHtml(action.url)}</p>`] : []),
    ...(footer ? [`<p style="font-size: small; color: #555">${escapeHtml(footer)}</p>`] : []),
    '</body></html>'
  ].join('\n')
  return { text, html }
}

function hours (seconds: number): string {
  // Never round up: a 30-minute link must not be announced as lasting an hour.
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`
  const m = Math.floor(seconds / 60)
  return `${m} minute${m === 1 ? '' : 's'}`
}

export function verifyEmailMail (username: string, link: string, ttlSeconds: number): Mail {
  return {
    subject: 'Confirm your email address',
    ...layout(
      `Hello ${username},`,
      ['Please confirm that this is your email address.', `The link works once and expires in ${hours(ttlSeconds)}.`],
      { label: 'Confirm my email address', url: link },
      'If you did not create an account, you can ignore this message.'
    )
  }
}

export function resetPasswordMail (username: string, link: string, ttlSeconds: number): Mail {
  return {
    subject: 'Reset your password',
    ...layout(
      `Hello ${username},`,
      ['Someone (hopefully you) asked to reset the password of your account.', `The link works once and expires in ${hours(ttlSeconds)}. Setting a new password signs out every device.`],
      { label: 'Choose a new password', url: link },
      'If you did not ask for this, you can ignore this message: your password stays the same.'
    )
  }
}

export function signupAttemptMail (username: string): Mail {
  return {
    subject: 'Someone tried to sign up with your email address',
    ...layout(
      `Hello ${username},`,
      ['Someone tried to create a new account with this email address, which already has one: yours.', 'If it was you, sign in instead; if you forgot your password, use "forgot password" on the sign-in page.'],
      undefined,
      'If it was not you, you can ignore this message: nothing was changed.'
    )
  }
}
