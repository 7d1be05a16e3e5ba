import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'nrm:public-route';

/** Marks a route that needs no credentials (health, the API documentation). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
