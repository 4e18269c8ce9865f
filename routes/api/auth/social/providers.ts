// GET /api/auth/social/providers: which social logins this deployment offers.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { authorizeUrl } from '../../../../src/social/login.js'
import { SocialProviderInfo } from '../../../../src/social/schemas.js'
import { ref } from '../../../../src/schemas/shared.js'

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addSchema(SocialProviderInfo)
  const enabled = [...fastify.social.providers.keys()].sort().map(name => ({
    name,
    authorize_url: authorizeUrl(fastify.social, name)
  }))

  fastify.get('/providers', {
    schema: {
      operationId: 'listSocialProviders',
      summary: 'The enabled social login providers',
      tags: ['social'],
      response: {
        200: Type.Array(ref(SocialProviderInfo), { description: 'Enabled providers, by name; empty when none is configured.' })
      }
    }
  }, async () => enabled)
}

export default route
