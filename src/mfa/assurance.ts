// mfa/: second factors (TOTP, recovery codes), the second step of a login, step-up and the MFA policy.
// How strongly a session was authenticated: RFC 8176 `amr` values and the `acr` they amount to.

/** RFC 8176 values a session may carry. */
export type AuthMethod = 'pwd' | 'otp' | 'hwk' | 'swk' | 'user' | 'mfa' | 'fed'

/**
 * `aal2` when two factors were used (`mfa`), or a user-verified passkey (a key held, `hwk`/`swk`, and
 * the user verified by it, `user`: two factors in one gesture); one factor is `aal1`.
 */
export function acrOf (amr: readonly string[]): 'aal1' | 'aal2' {
  if (amr.includes('mfa')) return 'aal2'
  return amr.includes('user') && (amr.includes('hwk') || amr.includes('swk')) ? 'aal2' : 'aal1'
}

/** The `amr` of a session whose first factor (`pwd`, `fed`) was followed by `second` (`otp`, `hwk`, `swk`). */
export function withSecondFactor (first: readonly string[], second: AuthMethod): string[] {
  return [...new Set([...first.filter(method => method !== 'mfa'), second, 'mfa'])]
}

/** Whether MFA_REQUIRED_FOR puts this user in scope: staff covers superusers too. */
export function mfaRequiredOf (policy: 'none' | 'staff' | 'superuser' | 'all', user: { isStaff: boolean, isSuperuser: boolean }): boolean {
  switch (policy) {
    case 'all': return true
    case 'staff': return user.isStaff || user.isSuperuser
    case 'superuser': return user.isSuperuser
    default: return false
  }
}
