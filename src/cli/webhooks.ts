// `webhooks`: subscriptions, their deliveries and a retry, as the admin API offers them.
import { AUDIT_EVENT_TYPES } from '../audit/events.js'
import { createWebhook, deleteWebhook, listDeliveries, listWebhooks, retryDelivery } from '../webhooks/webhooks.js'
import { parseCommandLine, UsageError, type Command } from './command.js'

export const webhooks: Command = {
  name: 'webhooks',
  summary: 'Manage webhooks: list, create, delete, their deliveries and retries.',
  help: `Usage: portcullis webhooks list
       portcullis webhooks create --url <https-url> --event <type>... [--description <text>]
       portcullis webhooks delete <id>
       portcullis webhooks deliveries <id> [--status pending|delivered|dead]
       portcullis webhooks retry <id> <delivery-id>

create prints the new webhook with its secret (whsec_...), shown this once. The URL must be
https and resolve to a public address (unless WEBHOOK_ALLOW_PRIVATE=true). Event types:
${AUDIT_EVENT_TYPES.join(', ')}.
retry makes a delivery (a dead one too) due at once; the server sends it, same webhook-id.
Output is JSON.

Exit status: 0; 1 on a bad option or an unknown id; 66 when the database does not exist;
78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { values, positionals } = parseCommandLine(args, {
      url: { type: 'string' },
      event: { type: 'string', multiple: true },
      description: { type: 'string' },
      status: { type: 'string' }
    }, { required: ['action'], optional: ['id', 'delivery'] })
    const [action, id, delivery] = positionals
    const print = (value: unknown): void => { cli.stdout.write(`${JSON.stringify(value, null, 2)}\n`) }
    const need = (value: string | undefined, what: string): string => {
      if (value === undefined) throw new UsageError(`Missing ${what}.`)
      return value
    }
    switch (action) {
      case 'list':
        return print(await listWebhooks(await cli.deps()))
      case 'create': {
        const events = values.event ?? []
        const unknown = events.filter(type => !(AUDIT_EVENT_TYPES as readonly string[]).includes(type))
        if (events.length === 0 || unknown.length > 0) throw new UsageError(events.length === 0 ? 'Give at least one --event <type>.' : `Unknown event type: ${unknown.join(', ')}.`)
        return print(await createWebhook(await cli.deps(), { url: need(values.url, '--url <https-url>'), events, ...(values.description !== undefined && { description: values.description }) }))
      }
      case 'delete':
        await deleteWebhook(await cli.deps(), need(id, '<id>'))
        cli.stdout.write(`Deleted webhook ${id!}.\n`)
        return
      case 'deliveries': {
        const status = values.status
        if (status !== undefined && !['pending', 'delivered', 'dead'].includes(status)) throw new UsageError('--status must be pending, delivered or dead.')
        return print((await listDeliveries(await cli.deps(), need(id, '<id>'), { ...(status !== undefined && { status: status as 'pending' }), limit: 200 })).items)
      }
      case 'retry':
        await retryDelivery(await cli.deps(), need(id, '<id>'), need(delivery, '<delivery-id>'))
        cli.stdout.write(`Delivery ${delivery!} queued again.\n`)
        return
      default:
        throw new UsageError(`Unknown action "${action}": list, create, delete, deliveries or retry.`)
    }
  }
}
