export {
  ConfigError,
  ENV_VARIABLES,
  describeEnv,
  envVar,
  integer,
  loadConfig,
  serviceEnv,
  type CamelCased,
  type EnvDoc,
  type EnvSchema,
  type EnvVariable,
  type ServiceConfig,
} from './env.js';
