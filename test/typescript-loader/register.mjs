// The TypeScript loader of the test processes (.taprc node-arg): registers hooks.mjs.
import { register } from 'node:module'

register('./hooks.mjs', import.meta.url)
