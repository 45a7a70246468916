import { seedRangeSuite } from './seed-range.js';

seedRangeSuite(1, 2);
