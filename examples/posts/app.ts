// The "posts" example service: a downstream Fastify app that trusts Portcullis tokens through @portcullis/verify.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import portcullisVerify, { requirePermission, type PortcullisVerifyOptions } from '@portcullis/verify'

export interface PostsAppOptions {
  /** Where to find Portcullis and what its tokens must say; see the README of this folder. */
  portcullis: PortcullisVerifyOptions
  logger?: FastifyServerOptions['logger']
}

interface Post {
  id: number
  title: string
  body: string
  /** The `sub` of the token that wrote it: the Portcullis user id. */
  author: string
  created_at: string
}

const PostBody = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'body'],
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 200 },
    body: { type: 'string', minLength: 1, maxLength: 10_000 }
  }
} as const

const PostSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    title: { type: 'string' },
    body: { type: 'string' },
    author: { type: 'string' },
    created_at: { type: 'string' }
  }
} as const

export async function buildPostsApp (options: PostsAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false })
  // Verifies Bearer tokens against Portcullis's JWKS and, when configured, polls its revocation feed.
  await app.register(portcullisVerify, options.portcullis)

  // In memory: the example is about who may write, not about storage.
  const posts: Post[] = []

  // Reading is public, as on most blogs.
  app.get('/posts', { schema: { response: { 200: { type: 'array', items: PostSchema } } } }, async () => posts)

  // Writing needs the `posts.add` permission (Django's "Can add post"), granted to the user in Portcullis.
  app.post<{ Body: { title: string, body: string } }>('/posts', {
    onRequest: requirePermission('posts.add'),
    schema: { body: PostBody, response: { 201: PostSchema } }
  }, async (request, reply) => {
    const post: Post = {
      id: posts.length + 1,
      title: request.body.title,
      body: request.body.body,
      author: request.accessToken!.sub,
      created_at: new Date().toISOString()
    }
    posts.push(post)
    return reply.code(201).send(post)
  })

  return app
}
