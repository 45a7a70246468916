import { seedRangeSuite } from './seed-range.js';

seedRangeSuite(0, 2);
